"""DKIM public keys without DNS: the TXT records a sender would publish, configured locally.

A sink must not depend on DNS (and must send nothing off the machine), so the keys that
verify signatures come from `--dkim-key SELECTOR._domainkey.DOMAIN=FILE`, where FILE holds a
PEM public key, a PEM private key (its public half is used) or the TXT record's value, or
from `--dkim-key ZONEFILE`, a zone-style file of TXT records. dkimpy asks for a key through
its `dnsfunc` hook; a `KeyLookup` answers from these records and remembers the names it did
not find, so that a signature with an unknown key is reported as such, not as broken.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

DOMAINKEY = "._domainkey."
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def record_name(name: str) -> str:
    """Return a key record's name as looked up: lower case, without the final dot."""
    return name.strip().rstrip(".").lower()


class KeyRing:
    """The configured key records, by name (`selector._domainkey.domain`)."""

    def __init__(self, records: Iterable[tuple[str, str]] = ()) -> None:
        self.records = {record_name(name): value for name, value in records}

    def lookup(self) -> KeyLookup:
        """Return a dnsfunc for one verification, recording the names it cannot answer."""
        return KeyLookup(self.records)


class KeyLookup:
    """dkimpy's `dnsfunc(name, timeout=...)`: the TXT value of a configured record, or None."""

    def __init__(self, records: dict[str, str]) -> None:
        self._records = records
        self.missing: set[str] = set()

    def __call__(self, name: bytes | str, timeout: float = 5.0) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        found = self._records.get(record_name(text))
        if found is None:
            self.missing.add(record_name(text))
            return None
        return found.encode("ascii", "replace")


# -- reading --dkim-key values ----------------------------------------------------------------


def read_key_option(text: str) -> list[tuple[str, str]]:
    """Read one `--dkim-key` value: `SELECTOR._domainkey.DOMAIN=FILE`, or a zone file.

    Raises ValueError, naming the file, when it cannot be read or holds no usable key.
    """
    name, equals, path = text.partition("=")
    if equals and DOMAINKEY in name.lower():
        name = record_name(name)
        if not name.split(DOMAINKEY)[0] or not name.split(DOMAINKEY)[1]:
            raise ValueError(f"expected SELECTOR._domainkey.DOMAIN=FILE, got {text!r}")
        return [(name, key_record(_read(Path(path)), path))]
    records = zone_records(_read(Path(text)))
    if not records:
        raise ValueError(f"{text}: no TXT record named SELECTOR._domainkey.DOMAIN in it")
    return [(name, key_record(value, text)) for name, value in records]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ValueError(f"cannot read {path}: {reason}") from None


def key_record(content: str, where: str) -> str:
    """Return the TXT record value (`v=DKIM1; k=...; p=...`) of a key file's content."""
    pem = _PEM.search(content)
    if pem is not None:
        return _record_of_pem(pem.group(0), where)
    strings = _QUOTED.findall(content)
    # Whitespace around tags and inside base64 means nothing (RFC 6376 §3.2, §3.6.1).
    value = "".join(("".join(strings) if strings else content).split())
    if not re.search(r"(?:^|;)\s*p\s*=\s*[A-Za-z0-9+/]", value):
        raise ValueError(f"{where}: neither a PEM key nor a DKIM TXT record (no p= tag)")
    return _usable(value, where)


def _usable(value: str, where: str) -> str:
    """Return the record if dkimpy can read its key (RFC 6376 §3.6.1), else raise ValueError."""
    try:
        dkim.evaluate_pk(where, value.encode("ascii", "replace"))
    except dkim.NaClNotFoundError:
        pass  # an Ed25519 key: read only when PyNaCl is installed (see authentication.py)
    except (dkim.DKIMException, ValueError, TypeError) as error:
        raise ValueError(f"{where}: not a usable DKIM key record ({error})") from None
    return value


def _record_of_pem(pem: str, where: str) -> str:
    data = pem.encode("ascii", "replace")
    try:
        if "PRIVATE KEY" in pem:
            public = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: cannot read the PEM key ({error})") from None
    if isinstance(public, ed25519.Ed25519PublicKey):  # RFC 8463 §4.2: the raw 32 bytes
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError(f"{where}: DKIM keys are RSA or Ed25519 (RFC 6376, RFC 8463)")
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


# -- zone files ---------------------------------------------------------------------------------


def zone_records(text: str) -> list[tuple[str, str]]:
    """Return (name, value) of the `_domainkey` TXT records of a zone-style file.

    Enough of RFC 1035 §5.1 for exported DNS zones: `$ORIGIN`, `@`, relative names, a blank
    name meaning the previous one, optional TTL and class, parentheses spanning lines,
    `;` comments, and character-strings that are joined (RFC 7208 §3.3 style).
    """
    origin, previous = "", ""
    found: list[tuple[str, str]] = []
    for entry in _entries(text):
        tokens = _tokens(entry)
        if not tokens:
            continue
        if tokens[0].upper() == "$ORIGIN" and len(tokens) > 1:
            origin = record_name(tokens[1])
            continue
        if tokens[0].startswith("$"):
            continue
        if entry[0].isspace():
            name, rest = previous, tokens
        else:
            name, rest = _absolute(tokens[0], origin), tokens[1:]
            previous = name
        value = _txt_value(rest)
        if value is not None and DOMAINKEY in f"{name}.":
            found.append((name, value))
    return found


def _entries(text: str) -> list[str]:
    """Return the zone's entries, each joined across the lines its parentheses span."""
    entries: list[str] = []
    current, depth = "", 0
    for line in text.splitlines():
        line = _without_comment(line)
        current = f"{current} {line}" if depth else line
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            entries.append(current.replace("(", " ").replace(")", " ").rstrip())
            current, depth = "", 0
    return [e for e in entries if e.strip()]


def _without_comment(line: str) -> str:
    quoted = False
    for index, char in enumerate(line):
        if char == '"' and (index == 0 or line[index - 1] != "\\"):
            quoted = not quoted
        elif char == ";" and not quoted:
            return line[:index]
    return line


def _tokens(entry: str) -> list[str]:
    return re.findall(r'"(?:[^"\\]|\\.)*"|\S+', entry)


def _absolute(name: str, origin: str) -> str:
    if name == "@":
        return origin
    if name.endswith("."):
        return record_name(name)
    return record_name(f"{name}.{origin}" if origin else name)


def _txt_value(tokens: list[str]) -> str | None:
    """Return the joined strings after `[TTL] [CLASS] TXT`, or None for another type."""
    rest = list(tokens)
    while rest and (rest[0].isdigit() or rest[0].upper() in ("IN", "CH", "HS")):
        rest.pop(0)
    if not rest or rest[0].upper() != "TXT":
        return None
    parts = [t[1:-1] if t.startswith('"') else t for t in rest[1:]]
    return "".join(parts)

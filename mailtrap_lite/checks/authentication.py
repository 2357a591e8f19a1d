"""Authentication: every DKIM signature verified offline, and its alignment with From.

dkimpy verifies (RFC 6376, with RFC 8301's algorithm and key-size rules); its `dnsfunc` hook
answers from the configured keys (dkimkeys.py), never from DNS. A signature whose key is not
configured is `info`: the sink cannot tell, which is not the sender's fault. SPF needs the
sending IP and DNS, so it is not checked; DMARC passes on an aligned DKIM pass alone when SPF
does not align, which is what `authentication.alignment` looks for (RFC 7489 §3.1.1, §4.2).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from mailtrap_lite.checks.dkimkeys import KeyRing, record_name
from mailtrap_lite.checks.domains import aligned, strictly_aligned
from mailtrap_lite.checks.mail import CheckedMail
from mailtrap_lite.checks.report import FAIL, INFO, PASS, WARN, Check, check
from mailtrap_lite.mime.body import BODY_HEADER_BYTES
from mailtrap_lite.mime.headers import HEADER_END

VERIFIED, FAILED, NO_KEY, UNREADABLE, UNSUPPORTED = (
    "verified",
    "failed",
    "no-key",
    "unreadable",
    "unsupported",
)
REQUIRED_TAGS = ("v", "a", "b", "bh", "d", "h", "s")  # RFC 6376 §3.5
MIN_KEY_BITS = 1024  # RFC 8301 §3.2: smaller RSA keys MUST NOT be considered valid
GOOD_KEY_BITS = 2048  # RFC 8301 §3.2 "SHOULD use at least 2048 bits"; Google asks for 2048
REF_DKIM = "RFC 6376 §6.1"
_SIGNATURE_FIELD = re.compile(rb"^dkim-signature[ \t]*:", re.IGNORECASE | re.MULTILINE)
REF_UNSIGNED = "RFC 6376; Gmail and Yahoo sender requirements (Feb 2024): authenticate with DKIM"


@dataclass(frozen=True)
class Signature:
    """One DKIM-Signature header and what verifying it found."""

    domain: str  # d=
    selector: str  # s=
    algorithm: str  # a=
    signed_headers: tuple[str, ...]  # h=, lower case
    body_length: bool  # an l= tag: content may be appended without breaking it
    outcome: str  # verified, failed, no-key, unreadable, unsupported
    reason: str = ""
    key_bits: int = 0

    @property
    def key_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def covers(self, header: str) -> bool:
        """Say whether the signature's h= list includes this header."""
        return header.lower() in self.signed_headers


class _Notes:
    """A logger for dkimpy that keeps its error messages (they say why a check failed)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, message: str, *args: object) -> None:
        self.errors.append(message % args if args else message)

    def debug(self, *args: object) -> None:
        """Drop dkimpy's debug output."""

    info = warning = debug


def verify_signatures(raw: bytes, keys: KeyRing) -> list[Signature]:
    """Verify every DKIM-Signature of a message, topmost first.

    dkimpy splits every header field into objects of its own: 2 million small fields took
    400 MiB. A header block over the read model's bound (BODY_HEADER_BYTES) is not handed to
    it; a signature found there is reported unreadable, saying why.
    """
    found_end = HEADER_END.search(raw)
    end = found_end.start() if found_end else len(raw)
    if end > BODY_HEADER_BYTES:
        if _SIGNATURE_FIELD.search(raw, 0, end) is None:
            return []
        reason = f"the header block is over {BODY_HEADER_BYTES:,} bytes; it was not verified"
        return [Signature("", "", "", (), False, UNREADABLE, reason)]
    notes = _Notes()
    try:
        verifier = dkim.DKIM(raw, logger=notes, minkey=MIN_KEY_BITS)
    except Exception as error:  # dkimpy cannot split the message into headers and body
        return [Signature("", "", "", (), False, UNREADABLE, f"cannot read the message: {error}")]
    headers = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    return [_verify_one(verifier, index, value, keys, notes) for index, value in enumerate(headers)]


def _verify_one(
    verifier: dkim.DKIM, index: int, value: bytes, keys: KeyRing, notes: _Notes
) -> Signature:
    tags = _tags(value)
    found = Signature(
        domain=_text(tags.get(b"d")).lower(),
        selector=_text(tags.get(b"s")).lower(),
        algorithm=_text(tags.get(b"a")).lower(),
        signed_headers=tuple(h.strip().lower() for h in _text(tags.get(b"h")).split(":") if h),
        body_length=b"l" in tags,
        outcome=UNREADABLE,
    )
    missing = [tag for tag in REQUIRED_TAGS if tag.encode() not in tags]
    if missing:
        reason = f"required tags missing: {', '.join(t + '=' for t in missing)}"
        return _with(found, UNREADABLE, reason if tags else "the tag list cannot be read")
    lookup = keys.lookup()
    notes.errors.clear()
    try:
        ok = verifier.verify(idx=index, dnsfunc=lookup)
    except dkim.NaClNotFoundError:
        return _with(found, UNSUPPORTED, "Ed25519 signatures (RFC 8463) need PyNaCl installed")
    except dkim.DKIMException as error:
        outcome = UNREADABLE if isinstance(error, dkim.MessageFormatError) else FAILED
        return _with(found, outcome, str(error))
    except Exception as error:  # hostile input dkimpy does not anticipate
        return _with(found, UNREADABLE, f"{type(error).__name__}: {error}")
    if ok:
        return _with(found, VERIFIED, "", int(verifier.keysize))
    if record_name(found.key_name) in lookup.missing:
        return _with(found, NO_KEY, f"no key configured for {found.key_name}")
    reason = "; ".join(notes.errors) or "the signature does not match the signed headers"
    return _with(found, FAILED, reason, int(verifier.keysize or 0))


def _with(found: Signature, outcome: str, reason: str, key_bits: int = 0) -> Signature:
    return dataclasses.replace(found, outcome=outcome, reason=reason, key_bits=key_bits)


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(parse_tag_value(value))
    except (InvalidTagValueList, ValueError, TypeError):
        return {}


def _text(value: bytes | None) -> str:
    return "".join((value or b"").decode("ascii", "replace").split())


# -- the checks ---------------------------------------------------------------------------------


def authentication_checks(mail: CheckedMail, signatures: list[Signature]) -> list[Check]:
    """Return one check per signature (or one saying there is none) and the alignment."""
    if not signatures:
        found = [
            check(
                "authentication.dkim",
                WARN,
                "Not DKIM-signed",
                "The message has no DKIM-Signature. Gmail and Yahoo refuse or spam-folder"
                " unauthenticated mail, and a sink cannot check SPF.",
                REF_UNSIGNED,
            )
        ]
    else:
        found = [signature_check(s) for s in signatures]
    return [*found, alignment_check(mail, signatures)]


def signature_check(found: Signature) -> Check:
    """Return the check of one signature: verified, broken, or not verifiable here."""
    who = f"d={found.domain or '?'} s={found.selector or '?'}"
    if found.outcome == NO_KEY:
        return check(
            "authentication.dkim",
            INFO,
            f"DKIM key unknown: {who}",
            f"No key is configured for {found.key_name}, so the signature cannot be"
            f" verified here. Give --dkim-key {found.key_name}=FILE (a PEM key or the"
            " TXT record) to verify it.",
            "RFC 6376 §3.6.2",
        )
    if found.outcome == UNSUPPORTED:
        return check(
            "authentication.dkim",
            INFO,
            f"DKIM signature not verifiable: {who}",
            found.reason,
            "RFC 8463",
        )
    if found.outcome != VERIFIED:
        return _broken(found, who)
    return _verified(found, who)


def _broken(found: Signature, who: str) -> Check:
    if found.outcome == UNREADABLE:
        return check(
            "authentication.dkim",
            FAIL,
            f"Malformed DKIM signature: {who}",
            found.reason,
            "RFC 6376 §3.5",
        )
    if "body hash mismatch" in found.reason:
        detail = (
            "The body was changed after it was signed (the body hash does not match);"
            " receivers treat the signature as absent."
        )
        return check(
            "authentication.dkim", FAIL, f"DKIM signature broken: {who}", detail, "RFC 6376 §6.1.3"
        )
    return check(
        "authentication.dkim",
        FAIL,
        f"DKIM signature does not verify: {who}",
        f"{found.reason}. A signed header was changed after signing, or the"
        " configured key is not the one it was signed with.",
        REF_DKIM,
    )


def _verified(found: Signature, who: str) -> Check:
    signed = ", ".join(dict.fromkeys(found.signed_headers))
    detail = f"{found.algorithm}, {found.key_bits}-bit key; signed headers: {signed}."
    title = f"DKIM signature verified: {who}"
    if found.algorithm == "rsa-sha1":
        return check(
            "authentication.dkim",
            FAIL,
            f"DKIM signature uses rsa-sha1: {who}",
            f"{detail} rsa-sha1 must not be used for signing or verifying.",
            "RFC 8301 §3.1",
        )
    if found.body_length:
        return check(
            "authentication.dkim",
            WARN,
            title,
            f"{detail} It has an l= tag: anyone may append content to the body"
            " without breaking the signature.",
            "RFC 6376 §8.2",
        )
    if found.algorithm.startswith("rsa") and found.key_bits < GOOD_KEY_BITS:
        return check(
            "authentication.dkim",
            WARN,
            title,
            f"{detail} Keys shorter than 2048 bits are discouraged.",
            "RFC 8301 §3.2; Google sender guidelines: 2048-bit DKIM keys",
        )
    return check("authentication.dkim", PASS, title, detail, REF_DKIM)


def alignment_check(mail: CheckedMail, signatures: list[Signature]) -> Check:
    """Return whether a verified signature's domain aligns with the From domain (DMARC)."""
    ref = "RFC 7489 §3.1.1"
    from_domain = mail.from_domain
    if from_domain is None:
        return check(
            "authentication.alignment",
            INFO,
            "DKIM alignment not checked",
            "There is no single From address to align with.",
            ref,
        )
    if not signatures:
        return check(
            "authentication.alignment",
            INFO,
            "DKIM alignment not checked",
            f"No signature to align with the From domain {from_domain}.",
            ref,
        )
    matching = [s for s in signatures if s.domain and aligned(s.domain, from_domain)]
    passing = [s for s in matching if s.outcome == VERIFIED]
    if passing:
        mode = (
            "strict"
            if any(strictly_aligned(s.domain, from_domain) for s in passing)
            else ("relaxed")
        )
        return check(
            "authentication.alignment",
            PASS,
            "DKIM aligned with From",
            f"d={passing[0].domain} aligns with the From domain {from_domain}"
            f" ({mode} alignment), so DMARC passes on DKIM.",
            ref,
        )
    if any(s.outcome == NO_KEY for s in matching):
        return check(
            "authentication.alignment",
            INFO,
            "DKIM alignment not verifiable",
            f"A signature by {matching[0].domain} aligns with {from_domain}, but its"
            " key is not configured here.",
            ref,
        )
    domains = ", ".join(sorted({s.domain or "?" for s in signatures}))
    return check(
        "authentication.alignment",
        WARN,
        "No DKIM signature aligned with From",
        f"No verified signature shares the organizational domain of From"
        f" ({from_domain}); signed by: {domains}. DMARC then depends on SPF alone.",
        ref,
    )

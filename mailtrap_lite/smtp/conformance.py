"""What a message does that a strict server would refuse; we accept it and say so.

Each check is a few C-speed byte operations over the raw message, cheap enough for ingest.
"""

from __future__ import annotations

import re

from mailtrap_lite.mime.headers import Summary
from mailtrap_lite.store.records import Warning_

MAX_LINE = 998  # RFC 5322 §2.1.1: at most 998 characters per line, excluding CRLF
_LONG_LINE = re.compile(rb"^[^\r\n]{%d,}" % (MAX_LINE + 1), re.MULTILINE)  # from a line start


def check_message(raw: bytes, mail_options: list[str], summary: Summary) -> list[Warning_]:
    """Return the warnings for one message, in a stable order."""
    found = [
        _long_lines(raw),
        _bare_line_ends(raw),
        _eight_bit(raw, mail_options),
        _nul_bytes(raw),
        _missing_header(summary.has_date, "missing-date", "Date", "RFC 5322 §3.6"),
        _missing_header(
            summary.message_id is not None, "missing-message-id", "Message-ID", "RFC 5322 §3.6.4"
        ),
    ]
    return [w for w in found if w is not None]


def _long_lines(raw: bytes) -> Warning_ | None:
    if len(raw) <= MAX_LINE:
        return None
    if raw.count(b"\r") == raw.count(b"\n") == raw.count(b"\r\n"):
        # Only CRLF ends lines: a line is a run of other bytes, found without splitting
        # (a list of every line took 119 MiB for 2 million short header fields).
        long = [found.end() - found.start() for found in _LONG_LINE.finditer(raw)]
    else:
        long = [n for n in (len(line) for line in raw.split(b"\r\n")) if n > MAX_LINE]
    if not long:
        return None
    return Warning_(
        "long-line",
        f"{len(long)} line(s) longer than {MAX_LINE} octets (longest {max(long)});"
        " RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6 limit lines to 998 octets plus CRLF",
    )


def _bare_line_ends(raw: bytes) -> Warning_ | None:
    crlf = raw.count(b"\r\n")
    bare_lf = raw.count(b"\n") - crlf
    bare_cr = raw.count(b"\r") - crlf
    if not bare_lf and not bare_cr:
        return None
    kinds = [f"{n} bare {name}" for n, name in ((bare_lf, "LF"), (bare_cr, "CR")) if n]
    return Warning_(
        "bare-line-ending",
        f"{' and '.join(kinds)}; RFC 5322 §2.3 allows CR and LF only together as CRLF",
    )


def _eight_bit(raw: bytes, mail_options: list[str]) -> Warning_ | None:
    options = {o.upper() for o in mail_options}
    if raw.isascii() or "BODY=8BITMIME" in options or "SMTPUTF8" in options:
        return None
    return Warning_(
        "8bit-without-8bitmime",
        "8-bit data sent without BODY=8BITMIME or SMTPUTF8 in MAIL FROM (RFC 6152 §3)",
    )


def _nul_bytes(raw: bytes) -> Warning_ | None:
    if b"\x00" not in raw:
        return None
    return Warning_("nul-byte", "the message contains NUL bytes (RFC 5322 §3.5 forbids them)")


def _missing_header(present: bool, code: str, name: str, rfc: str) -> Warning_ | None:
    if present:
        return None
    return Warning_(code, f"no {name} header ({rfc} requires one)")

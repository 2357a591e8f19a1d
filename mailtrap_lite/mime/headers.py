"""The header block of a message: fields, RFC 2047 words, addresses, dates. No I/O.

`parse_summary` reads the header block only and runs before the 250 reply, because parsing
is the real cost of ingest (DESIGN.md); it reads at most SUMMARY_HEADER_BYTES of it.
"""

from __future__ import annotations

import datetime as dt
import email.errors
import email.header
import email.utils
import logging
import re
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# The summary runs on the SMTP loop before the 250: 256 KiB of small headers parse in ~30 ms,
# while a 32 MiB header block would stall every session for seconds.
SUMMARY_HEADER_BYTES = 262_144

HEADER_END = re.compile(rb"\r?\n\r?\n")
UNIX_FROM = "From "  # an mbox separator line, not the From: header
_FOLD = re.compile(r"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class Mailbox:
    """One header address: display name (or None) and address."""

    name: str | None
    address: str


@dataclass
class Summary:
    """Fields parsed from the header block alone: cheap enough for the path to the 250."""

    subject: str = ""
    from_: Mailbox | None = None
    to: list[Mailbox] = field(default_factory=list)
    cc: list[Mailbox] = field(default_factory=list)
    reply_to: list[Mailbox] = field(default_factory=list)
    message_id: str | None = None
    date: str | None = None
    has_date: bool = False
    x_tags: str = ""  # the X-Tags header (decoded), read for tags


def header_block(raw: bytes) -> bytes:
    """Return the bytes before the first empty line (RFC 5322 §2.1)."""
    match = HEADER_END.search(raw)
    return raw[: match.start()] if match else raw


def headers_of(raw: bytes, limit: int | None = None) -> list[tuple[str, str]]:
    """Return every header as (name, unfolded value), in order, values still encoded.

    A direct split of the header block (RFC 5322 §2.2): four times cheaper than the email
    package's parser, and this runs for every message before its 250 reply. UTF-8 is read
    as such (RFC 6532); other 8-bit bytes become U+FFFD. Lines without a colon are skipped,
    and so is an mbox "From " line before the headers (see `unix_from_line`). With `limit`,
    only the first `limit` bytes of the header block are read.
    """
    text = header_block(raw if limit is None else raw[:limit]).decode("utf-8", "replace")
    if text.startswith(UNIX_FROM):
        text = text.partition("\n")[2]
    fields: list[tuple[str, str]] = []
    for line in _FOLD.sub("", text).splitlines():
        name, colon, value = line.partition(":")
        if colon and name and not name[0].isspace():
            fields.append((name.rstrip(), value.strip()))
    return fields


def unix_from_line(raw: bytes) -> str | None:
    """Return the mbox "From " line a message starts with (RFC 4155), or None.

    Messages taken from an mbox file may keep their separator line; it is not a header
    (the email package reads it as the "Unix from" too).
    """
    if not raw.startswith(UNIX_FROM.encode()):
        return None
    return raw.partition(b"\n")[0].rstrip(b"\r").decode("utf-8", "replace")


def decoded_headers(raw: bytes, limit: int | None = None) -> list[tuple[str, str]]:
    """Return every header (of the first `limit` bytes) with RFC 2047 words decoded."""
    return [(name, decode_words(value)) for name, value in headers_of(raw, limit)]


def parse_summary(raw: bytes) -> Summary:
    """Parse the summary fields from the header block; never raises on bad input.

    This runs before the 250: an error here would refuse the message (451) and the client
    would retry it for ever, so a parser failure gives an empty summary instead (logged).
    """
    try:
        return _summary_of(raw)
    except Exception:  # the email package has raised unexpected errors on hostile headers
        log.warning("cannot parse the header summary; storing the message without one",
                    exc_info=True)  # fmt: skip
        return Summary()


def _summary_of(raw: bytes) -> Summary:
    first: dict[str, str] = {}
    for name, value in headers_of(raw, SUMMARY_HEADER_BYTES):
        first.setdefault(name.lower(), value)
    return Summary(
        subject=decode_words(first.get("subject", "")),
        from_=next(iter(parse_mailboxes(first.get("from", ""))), None),
        to=parse_mailboxes(first.get("to", "")),
        cc=parse_mailboxes(first.get("cc", "")),
        reply_to=parse_mailboxes(first.get("reply-to", "")),
        message_id=first.get("message-id", "").strip() or None,
        date=parse_date(first.get("date", "")),
        has_date="date" in first,
        x_tags=decode_words(first.get("x-tags", "")),
    )


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; keep the text as is where they are broken."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    # MessageError covers HeaderParseError and CharsetError (a charset name that is not ASCII)
    except (ValueError, LookupError, UnicodeError, email.errors.MessageError):
        return value


def parse_mailboxes(value: str) -> list[Mailbox]:
    """Parse an address list header into mailboxes, skipping entries without an address."""
    if not value:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except (ValueError, IndexError):
        return []
    return [Mailbox(decode_words(name) or None, addr) for name, addr in pairs if addr]


def parse_date(value: str) -> str | None:
    """Return the Date header as RFC 3339 UTC, or None when absent or unparsable."""
    if not value.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 5322 §3.3: "-0000" means no zone known; read it as UTC
        when = when.replace(tzinfo=dt.UTC)
    return rfc3339(when)


def rfc3339(when: dt.datetime) -> str:
    """Format a time as RFC 3339 UTC with millisecond precision."""
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

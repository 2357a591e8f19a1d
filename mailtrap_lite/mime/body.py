"""The MIME body of a message: text, HTML and attachments, walked within bounds.

`parse_body` walks the MIME tree and runs after the commit (indexing) or when a message is
viewed, never before the 250 (DESIGN.md). Every message is hostile input, so the walk is
bounded (SECURITY.md, tests/test_bombs.py): the parser gets at most BODY_HEADER_BYTES of the
header block, descends at most MAX_DEPTH levels and takes at most MAX_PARTS leaf parts; the
message size limit (--max-message-size) bounds the rest.
"""

from __future__ import annotations

import email.errors
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any, Self

from mailtrap_lite.mime.headers import HEADER_END, decode_words
from mailtrap_lite.mime.htmltext import html_to_text

SNIPPET_LENGTH = 200
# Characters of the text looked at for a snippet: enough for 200 after collapsing spaces.
SNIPPET_SOURCE = 65_536
# Nesting levels of multipart and message/rfc822 parts that the parser descends into; the
# email package recurses once per level and hits Python's recursion limit near 1,000.
# A deeper part is kept whole as one application/octet-stream attachment.
MAX_DEPTH = 50
# Leaf parts taken from one message (text, HTML, attachments); the rest are counted only.
MAX_PARTS = 1000
# Header bytes of the message itself handed to the MIME parser by parse_body: 2 million
# small headers took 600 MB in the email package; the body needs only the first ones.
BODY_HEADER_BYTES = 1_048_576

_SPACES = re.compile(r"\s+")


@dataclass
class Attachment:
    """A part that is an attachment or an inline resource (a `cid:` image)."""

    index: int
    filename: str | None
    content_type: str
    data: bytes
    inline: bool
    content_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
            "inline": self.inline,
            "content_id": self.content_id,
        }


@dataclass
class Body:
    """The decoded content of a message: its text, HTML and attachments."""

    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    omitted_parts: int = 0  # leaf parts past MAX_PARTS, not taken

    def snippet(self) -> str:
        """Return the first words of the text (or of the HTML with tags removed)."""
        if self.text is not None:
            source = self.text[:SNIPPET_SOURCE]
        else:
            source = html_to_text((self.html or "")[:SNIPPET_SOURCE])
        return _SPACES.sub(" ", source).strip()[:SNIPPET_LENGTH]

    def searchable_text(self, limit: int | None = None) -> str:
        """Return the text that body searches look at, at most `limit` characters."""
        parts = [(self.text or "")[:limit], html_to_text((self.html or "")[:limit])]
        return "\n".join(p for p in parts if p)[:limit]


class BoundedMessage(EmailMessage):
    """An EmailMessage that the parser does not descend into deeper than MAX_DEPTH."""

    depth = 0

    def attach(self, payload: Self) -> None:  # type: ignore[override]  # as MIMEPart does
        """Add a subpart one level below this one (the parser calls this before reading it)."""
        payload.depth = self.depth + 1
        super().attach(payload)

    def get_content_type(self) -> str:
        """Return the type, or application/octet-stream below MAX_DEPTH: read it as a leaf."""
        if self.depth > MAX_DEPTH:
            return "application/octet-stream"
        return super().get_content_type()


def parse_message(raw: bytes) -> EmailMessage:
    """Parse the whole MIME tree with the modern policy, at most MAX_DEPTH levels deep."""
    msg = BytesParser(BoundedMessage, policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def parse_body(raw: bytes) -> Body:
    """Extract text, HTML and attachments; broken MIME yields what can be read."""
    msg = parse_message(_bounded_headers(raw))
    body = Body()
    leaves = _leaf_parts(msg)
    for part in leaves[:MAX_PARTS]:
        _take_part(body, part)
    body.omitted_parts = max(0, len(leaves) - MAX_PARTS)
    return body


def _bounded_headers(raw: bytes) -> bytes:
    """Return the message with its header block cut to BODY_HEADER_BYTES at a line end."""
    end = HEADER_END.search(raw)
    if end is None or end.start() <= BODY_HEADER_BYTES:
        return raw
    cut = raw.rfind(b"\n", 0, BODY_HEADER_BYTES) + 1
    return raw[:cut] + b"\r\n" + raw[end.end() :]


def _leaf_parts(msg: Message) -> list[Message]:
    try:
        return [part for part in msg.walk() if not part.is_multipart()]
    except (TypeError, AttributeError):
        return [msg]


def _take_part(body: Body, part: Message) -> None:
    ctype = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if disposition != "attachment" and not filename and ctype in ("text/plain", "text/html"):
        text = _decode_text(part)
        if ctype == "text/plain" and body.text is None:
            body.text = text
            return
        if ctype == "text/html" and body.html is None:
            body.html = text
            return
    if part.get_content_maintype() == "multipart":
        return
    body.attachments.append(_attachment(len(body.attachments), part, filename, disposition))


def _attachment(index: int, part: Message, filename: str | None, disposition: str) -> Attachment:
    cid = part.get("Content-ID")
    return Attachment(
        index=index,
        filename=filename,
        content_type=part.get_content_type(),
        data=_decode_bytes(part),
        inline=disposition == "inline" or (disposition != "attachment" and cid is not None),
        content_id=str(cid).strip().strip("<>") if cid else None,
    )


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, email.errors.MessageError):
        return None
    return decode_words(str(name)) if name else None


def _decode_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError):
        payload = None
    if isinstance(payload, bytes):
        return payload
    return str(part.get_payload()).encode("utf-8", "surrogateescape")


def _decode_text(part: Message) -> str:
    data = _decode_bytes(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except (LookupError, ValueError):  # an unknown charset name, or one with a NUL in it
        return data.decode("utf-8", "replace")

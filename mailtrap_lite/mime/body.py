"""The MIME structure of a message: its part tree and decoded leaf parts, walked within bounds.

Parsing is the real cost of ingest (DESIGN.md), so this runs after the commit (indexing) or
when a message is read, never before the 250. Every message is hostile input, so the walk is
bounded (SECURITY.md, tests/test_bombs.py): the parser gets at most BODY_HEADER_BYTES of the
header block, descends at most MAX_DEPTH levels and decodes at most MAX_PARTS leaf parts;
the message size limit (--max-message-size) bounds the rest.

Parts are addressed as IMAP numbers them (RFC 3501 §6.4.5): the children of a multipart are
1, 2, …, a part nested in part 2 is 2.1, and the body of a message that is not multipart is
part 1. The root multipart itself has the empty address.
"""

from __future__ import annotations

import email.errors
import re
from dataclasses import dataclass, field
from email import policy
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.policy import Policy
from functools import lru_cache
from typing import Any, Self

from mailtrap_lite.mime.headers import HEADER_END, decode_words

# Nesting levels of multipart and message/rfc822 parts that the parser descends into; the
# email package recurses once per level and hits Python's recursion limit near 1,000.
# A deeper part is kept whole as one application/octet-stream attachment.
MAX_DEPTH = 50
# Leaf parts decoded from one message (text, HTML, attachments); the rest are counted only.
MAX_PARTS = 1000
# Header bytes of the message itself handed to the MIME parser: 2 million small headers
# took 600 MB in the email package; the body needs only the first ones.
BODY_HEADER_BYTES = 1_048_576
# RFC 2045 §6.7 rule 5: quoted-printable lines are at most 76 characters.
QP_LINE = 76
# Tried only where a line starts: from every position, as `[^\r\n]{77,}` alone is tried,
# each short line was scanned again from each of its characters (2 ms for a 20 KB part).
_LONG_LINE = re.compile(rf"(?:\A|(?<=[\r\n]))[^\r\n]{{{QP_LINE + 1},}}")
# Parsed header values kept for the next lookup of the same value (see BoundedMessage.get);
# a longer value is parsed each time rather than kept.
FETCHED_HEADERS = 4096
FETCHED_VALUE_CHARS = 2048
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]*(?:=\s*){0,2}\Z")
FEED_BYTES = 65_536  # bytes handed to the MIME parser at a time


@dataclass(frozen=True)
class Part:
    """One node of the MIME tree (RFC 2045, 2046), with its decoded size if it is a leaf."""

    address: str
    content_type: str
    disposition: str | None
    filename: str | None
    charset: str | None
    encoding: str | None
    content_id: str | None
    size: int
    children: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Encoded:
    """What a leaf's content was like before its transfer encoding was undone (RFC 2045 §6).

    Taken while the part is decoded, so that checking encodings needs no second parse.
    """

    longest_line: int = 0  # characters of the longest line, when over QP_LINE (else 0)
    eight_bit: bool = False  # bytes past ASCII
    base64_valid: bool = True  # only the base64 alphabet, whole quanta (RFC 2045 §6.8)


@dataclass(frozen=True)
class Leaf:
    """A part that is not multipart, decoded."""

    part: Part
    data: bytes
    encoded: Encoded = Encoded()

    @property
    def address(self) -> str:
        return self.part.address

    def text(self) -> str:
        """Return the data decoded with the part's charset (UTF-8 when unknown)."""
        try:
            return self.data.decode(self.part.charset or "utf-8", "replace")
        except (LookupError, ValueError):  # an unknown charset name, or one with a NUL in it
            return self.data.decode("utf-8", "replace")


@dataclass
class Structure:
    """The part tree of a message and its decoded leaves, in document order."""

    tree: Part
    leaves: list[Leaf] = field(default_factory=list)
    omitted_parts: int = 0  # leaf parts past MAX_PARTS, counted but not decoded


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

    def get(self, name: str, failobj: Any = None) -> Any:
        """Return the first header called `name`, parsed (as Message.get does), or failobj.

        The parser and the walk ask for Content-Type and its neighbours dozens of times a
        part, and the modern policy parses the value anew each time (55 parses, 4 ms, for a
        20 KB multipart message); the parse of a value depends on nothing else, so it is kept.
        """
        name = name.lower()
        for key, value in self.raw_items():
            if key.lower() == name:
                if type(value) is str and len(value) <= FETCHED_VALUE_CHARS:
                    return _fetched(self.policy, key, value)
                return self.policy.header_fetch_parse(key, value)
        return failobj


@lru_cache(maxsize=FETCHED_HEADERS)
def _fetched(policy: Policy, name: str, value: str) -> Any:
    """Return a header value parsed as `policy` reads it (parsed headers are immutable)."""
    return policy.header_fetch_parse(name, value)


def parse_message(raw: bytes) -> EmailMessage:
    """Parse the whole MIME tree with the modern policy, at most MAX_DEPTH levels deep.

    The bytes go to the parser FEED_BYTES at a time: BytesParser.parsebytes decodes the whole
    message into one string first, and with the parser's own copies a 30 MB message of one
    line peaked at 290 MiB (156 MiB fed in pieces; a 26 MiB base64 part 175 -> 71 MiB).
    """
    parser = BytesFeedParser(BoundedMessage, policy=policy.default)
    for start in range(0, len(raw), FEED_BYTES):
        parser.feed(raw[start : start + FEED_BYTES])
    msg = parser.close()
    assert isinstance(msg, EmailMessage)
    return msg


def bounded_headers(raw: bytes) -> bytes:
    """Return the message with its header block cut to BODY_HEADER_BYTES at a line end."""
    end = HEADER_END.search(raw)
    if end is None or end.start() <= BODY_HEADER_BYTES:
        return raw
    cut = raw.rfind(b"\n", 0, BODY_HEADER_BYTES) + 1
    return raw[:cut] + b"\r\n" + raw[end.end() :]


def read_structure(raw: bytes) -> Structure:
    """Parse a message once and return its part tree and decoded leaves."""
    msg = parse_message(bounded_headers(raw))
    walk = _Walk()
    address = "" if _children(msg) else "1"
    return Structure(walk.node(msg, address), walk.leaves, walk.omitted)


class _Walk:
    """One walk over a parsed message, counting leaves against MAX_PARTS."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self.omitted = 0

    def node(self, part: Message, address: str) -> Part:
        children = _children(part)
        if not children:
            return self._leaf(part, address)
        prefix = f"{address}." if address else ""
        if part.get_content_maintype() == "message" and len(children) == 1:
            # message/rfc822: the enclosed message's parts are numbered below this one,
            # its body alone being part N.1 when it is not multipart (RFC 3501 §6.4.5).
            inner = children[0]
            nested = _children(inner) or [inner]
            return _part(part, address, 0, self._nodes(nested, prefix))
        return _part(part, address, 0, self._nodes(children, prefix))

    def _nodes(self, parts: list[Message], prefix: str) -> tuple[Part, ...]:
        nodes: list[Part] = []
        for number, child in enumerate(parts, start=1):
            if len(self.leaves) >= MAX_PARTS:
                self.omitted += _count_leaves(child)
                continue
            nodes.append(self.node(child, f"{prefix}{number}"))
        return tuple(nodes)

    def _leaf(self, part: Message, address: str) -> Part:
        data = decode_bytes(part)
        node = _part(part, address, len(data))
        self.leaves.append(Leaf(node, data, encoded_facts(part, node.encoding)))
        return node


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _count_leaves(part: Message) -> int:
    try:
        return sum(1 for p in part.walk() if not p.is_multipart())
    except (TypeError, AttributeError):
        return 1


def _part(part: Message, address: str, size: int, children: tuple[Part, ...] = ()) -> Part:
    cid = part.get("Content-ID")
    return Part(
        address=address,
        content_type=part.get_content_type(),
        disposition=(part.get_content_disposition() or "").lower() or None,
        filename=_filename(part),
        charset=part.get_content_charset() if part.get_content_maintype() == "text" else None,
        encoding=_header(part, "Content-Transfer-Encoding"),
        content_id=str(cid).strip().strip("<>") if cid else None,
        size=size,
        children=children,
    )


def _header(part: Message, name: str) -> str | None:
    try:
        value = part.get(name)
    except (ValueError, LookupError, email.errors.MessageError):
        return None
    return str(value).strip() if value is not None else None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, email.errors.MessageError):
        return None
    return decode_words(str(name)) if name else None


def encoded_facts(part: Message, encoding: str | None) -> Encoded:
    """Look at a leaf's payload as it was sent: line lengths, 8-bit bytes, base64 alphabet.

    Regular expressions and str methods only, so a 30 MB line costs no copy of it.
    """
    try:
        payload = part.get_payload()
    except (ValueError, LookupError, AssertionError):  # a charset name with a NUL in it
        return Encoded()
    if not isinstance(payload, str):
        return Encoded()
    longest = max((m.end() - m.start() for m in _LONG_LINE.finditer(payload)), default=0)
    base64_valid = True
    if (encoding or "").strip().lower() == "base64":
        spaces = sum(payload.count(c) for c in " \t\r\n")
        base64_valid = bool(_BASE64.match(payload)) and (len(payload) - spaces) % 4 == 0
    # The parser keeps 8-bit bytes as surrogate escapes: anything past ASCII was 8-bit.
    return Encoded(longest, not payload.isascii(), base64_valid)


def decode_bytes(part: Message) -> bytes:
    """Return a leaf's content with its transfer encoding undone (as received if broken)."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError):
        payload = None
    if isinstance(payload, bytes):
        return payload
    return str(part.get_payload()).encode("utf-8", "surrogateescape")

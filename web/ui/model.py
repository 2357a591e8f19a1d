"""What the message page shows, computed from the raw bytes: MIME tree, links, envelope.

Pure functions over parsed messages; the views pass in what the Store returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

from mailtrap_lite.mime.body import Body, parse_message
from mailtrap_lite.store.records import MessageRecord

# Enough of RFC 3986 to find URLs in plain text; trailing punctuation is trimmed afterwards.
_TEXT_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+|\bmailto:[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_SPACES = re.compile(r"\s+")


@dataclass
class Link:
    """One link found in the message: where it points, its text, and which body holds it."""

    url: str
    text: str
    source: str  # "html" or "text"


@dataclass
class PartNode:
    """One node of the MIME tree as the Parts tab shows it."""

    content_type: str
    disposition: str | None
    filename: str | None
    charset: str | None
    encoding: str | None
    size: int
    children: list[PartNode] = field(default_factory=list)


class _AnchorCollector(HTMLParser):
    """Collect (href, text) of every <a> element in an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self._open.append((href.strip(), []))
        elif tag == "img" and self._open:
            alt = dict(attrs).get("alt")
            self._open[-1][1].append(f"[image: {alt}]" if alt else "[image]")

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, _SPACES.sub(" ", "".join(text)).strip()))


def html_links(markup: str) -> list[Link]:
    """Return every <a href> of an HTML body with its visible text, in document order."""
    collector = _AnchorCollector()
    collector.feed(markup)
    collector.close()
    return [Link(href, text, "html") for href, text in collector.links]


def text_links(text: str) -> list[Link]:
    """Return every URL written in a plain-text body, in order."""
    found = (match.group(0).rstrip(_TRAILING) for match in _TEXT_URL.finditer(text))
    return [Link(url, "", "text") for url in found]


def message_links(body: Body) -> list[Link]:
    """Return the links of the HTML body, then those only in the text body."""
    links = html_links(body.html) if body.html else []
    seen = {link.url for link in links}
    for link in text_links(body.text or ""):
        if link.url not in seen:
            seen.add(link.url)
            links.append(link)
    return links


def mime_tree(raw: bytes) -> PartNode:
    """Return the MIME structure of a message (RFC 2045/2046), decoded sizes per leaf."""
    return _node(parse_message(raw))


def _node(part: Message) -> PartNode:
    children = part.get_payload() if part.is_multipart() else []
    node = PartNode(
        content_type=part.get_content_type(),
        disposition=part.get_content_disposition(),
        filename=_safe_filename(part),
        charset=part.get_content_charset() if part.get_content_maintype() == "text" else None,
        encoding=part.get("Content-Transfer-Encoding"),
        size=0 if part.is_multipart() else _decoded_size(part),
    )
    if isinstance(children, list):
        node.children = [_node(child) for child in children if isinstance(child, Message)]
    return node


def _safe_filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (ValueError, LookupError):
        return None


def _decoded_size(part: Message) -> int:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError):
        return 0
    return len(payload) if isinstance(payload, bytes) else 0


def envelope_rows(message: MessageRecord) -> list[tuple[str, str]]:
    """Return the Envelope tab: what the SMTP client said, not what the headers claim."""
    return [
        ("MAIL FROM", message.mail_from or "<> (null reverse-path)"),
        ("MAIL parameters", " ".join(message.mail_options) or "none"),
        ("RCPT TO", ", ".join(message.rcpt_to)),
        ("Bcc (envelope only)", ", ".join(message.bcc) or "none"),
        ("Inbox", message.inbox),
        ("Size", f"{message.size:,} bytes"),
        ("Received", message.received_at),
    ]

"""The full view of one message (INTERFACE.md "full message") for the JSON API.

The stored summary plus what only a full MIME parse gives: decoded headers, text, HTML,
attachments and links. Parsing happens here, when a message is viewed, never before its 250.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Protocol

from mailtrap_lite.mime.body import BODY_HEADER_BYTES, Attachment, Body, parse_body
from mailtrap_lite.mime.headers import decoded_headers
from mailtrap_lite.store.records import MessageRecord

__all__ = ["MessageView", "extract_links", "load_view"]

_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_URL = re.compile(r"""https?://[^\s<>"'\]\[]+""", re.I)
_TRAILING = ".,;:!?)}'\""


class StoredMessages(Protocol):
    """Where a view reads a message's stored fields and bytes (a Store fits)."""

    def get_message(self, message_id: int) -> MessageRecord | None: ...

    def raw(self, message_id: int) -> bytes | None: ...


@dataclass
class MessageView:
    """A stored message with its parsed body."""

    record: MessageRecord
    raw: bytes
    body: Body

    def links(self) -> list[str]:
        """Return the http(s) links of the HTML and the text, de-duplicated, in order."""
        return extract_links(self.body.html, self.body.text)

    def attachment(self, index: int) -> Attachment | None:
        """Return attachment `index` (as numbered in `attachments`), or None."""
        if 0 <= index < len(self.body.attachments):
            return self.body.attachments[index]
        return None

    def to_json(self) -> dict[str, Any]:
        """Return the full-message shape of INTERFACE.md."""
        r = self.record
        data = r.summary_json()
        data.update(
            message_id=r.message_id,
            date=r.date,
            reply_to=[m.to_json() for m in r.reply_to],
            bcc=[{"name": None, "address": address} for address in r.bcc],
            headers=[[name, value] for name, value in decoded_headers(self.raw, BODY_HEADER_BYTES)],
            text=self.body.text,
            html=self.body.html,
            attachments=[a.to_json() for a in self.body.attachments],
            links=self.links(),
            warnings=[w.to_json() for w in r.warnings],
        )
        return data


def load_view(store: StoredMessages, message_id: int) -> MessageView | None:
    """Read a message and parse its body; None if it does not exist."""
    record = store.get_message(message_id)
    raw = store.raw(message_id) if record else None
    if record is None or raw is None:
        return None
    try:
        body = parse_body(raw)
    except Exception:  # hostile MIME: show the headers and the raw bytes, never fail the view
        body = Body(text=None)
    return MessageView(record, raw, body)


def extract_links(markup: str | None, text: str | None) -> list[str]:
    """Return http(s) hrefs of the HTML, then URLs in the text, de-duplicated, in order."""
    found: list[str] = []
    for match in _HREF.finditer(markup or ""):
        href = html.unescape(next(g for g in match.groups() if g is not None)).strip()
        if href.lower().startswith(("http://", "https://")):
            found.append(href)
    found += [url.rstrip(_TRAILING) for url in _URL.findall(text or "")]
    return list(dict.fromkeys(found))

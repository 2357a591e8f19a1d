"""The read model: one message as every surface reads it, parsed once from its raw bytes.

The JSON API, the UI (its page, the HTML frame, each `cid:` image, the downloads), the
fixture's captured messages, the indexer and every later reader take the same `Message`, so
they agree on its headers, text, HTML, part tree, attachments and links. A `MessageCache`
keeps recent ones within a byte budget and lets one thread parse a message while the others
that ask for it at the same moment wait for that parse instead of starting their own.

Every bound of mime/ applies (SECURITY.md): the header block is read up to BODY_HEADER_BYTES
(`headers_cut` says when more was there), at most MAX_PARTS leaves are decoded
(`omitted_parts` counts the rest), and a message the email package cannot parse keeps its
headers and says why in `parse_error`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from mailtrap_lite.mime.body import (
    BODY_HEADER_BYTES,
    Leaf,
    Part,
    Structure,
    read_structure,
)
from mailtrap_lite.mime.codes import find_codes
from mailtrap_lite.mime.headers import HEADER_END, decoded_headers, unix_from_line
from mailtrap_lite.mime.htmltext import html_to_text
from mailtrap_lite.mime.links import Link, find_links, web_links

SNIPPET_LENGTH = 200
# Characters of the text looked at for a snippet: enough for 200 after collapsing spaces.
SNIPPET_SOURCE = 65_536
# Parsed messages kept for the next reader (the page's frame and images, a repeated look).
CACHE_BYTES = 64 * 1024 * 1024
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Attachment:
    """A part that is not the message's text or HTML body: a file, or an inline resource."""

    index: int  # 0-based, as /attachments/N counts
    part: Part
    data: bytes

    @property
    def filename(self) -> str | None:
        return self.part.filename

    @property
    def content_type(self) -> str:
        return self.part.content_type

    @property
    def content_id(self) -> str | None:
        return self.part.content_id

    @property
    def address(self) -> str:
        return self.part.address

    @property
    def inline(self) -> bool:
        """Say whether it is shown inside the message (a `cid:` image) rather than attached."""
        disposition = self.part.disposition
        return disposition == "inline" or (disposition != "attachment" and bool(self.content_id))


@dataclass
class Message:
    """What a message holds, decoded: headers, bodies, part tree, attachments, links."""

    size: int
    headers: list[tuple[str, str]]  # decoded (RFC 2047), in order
    headers_cut: bool = False  # the header block was longer than BODY_HEADER_BYTES
    unix_from: str | None = None  # an mbox "From " line before the headers (RFC 4155)
    text: str | None = None
    html: str | None = None
    tree: Part | None = None
    leaves: list[Leaf] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    omitted_parts: int = 0
    links: list[Link] = field(default_factory=list)
    parse_error: str | None = None

    @property
    def attachment_count(self) -> int:
        """Return how many parts are attached files (inline images are not counted)."""
        return sum(1 for a in self.attachments if not a.inline)

    @property
    def snippet(self) -> str:
        """Return the first words of the text (or of the HTML with tags removed)."""
        if self.text is not None:
            source = self.text[:SNIPPET_SOURCE]
        else:
            source = html_to_text((self.html or "")[:SNIPPET_SOURCE])
        return _SPACES.sub(" ", source).strip()[:SNIPPET_LENGTH]

    @property
    def readable_text(self) -> str:
        """Return the text body, or the HTML body's text when there is no text part."""
        return self.text if self.text is not None else html_to_text(self.html or "")

    def searchable_text(self, limit: int | None = None) -> str:
        """Return the text that body searches look at, at most `limit` characters."""
        parts = [(self.text or "")[:limit], html_to_text((self.html or "")[:limit])]
        return "\n".join(p for p in parts if p)[:limit]

    def web_links(self) -> list[str]:
        """Return the http(s) links, HTML hrefs first, each once (the fixture's `links()`)."""
        return web_links(self.links)

    def codes(self, pattern: str | re.Pattern[str] | None = None) -> list[str]:
        """Return the distinct codes in the readable text (default: 4 to 8 digits)."""
        return find_codes(self.readable_text, pattern)

    def header_values(self, name: str) -> list[str]:
        """Return the decoded values of every header with this name."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def attachment(self, index: int) -> Attachment | None:
        """Return attachment `index` (0-based), or None."""
        return self.attachments[index] if 0 <= index < len(self.attachments) else None

    def inline_part(self, content_id: str) -> Attachment | None:
        """Return the part with this Content-ID (RFC 2392), or None."""
        wanted = content_id.strip("<>")
        return next((a for a in self.attachments if a.content_id == wanted), None)

    def leaf(self, address: str) -> Leaf | None:
        """Return the leaf part at this address ("1", "2.1"), or None."""
        return next((leaf for leaf in self.leaves if leaf.address == address), None)

    @property
    def cost(self) -> int:
        """Return about how many bytes this object holds (for the cache's budget)."""
        decoded = sum(len(leaf.data) for leaf in self.leaves)
        bodies = len(self.text or "") + len(self.html or "")
        return 1024 + decoded + bodies + sum(len(n) + len(v) for n, v in self.headers)


def read_message(raw: bytes) -> Message:
    """Parse raw message bytes into the read model; hostile MIME never raises."""
    header_end = HEADER_END.search(raw)
    message = Message(
        size=len(raw),
        headers=decoded_headers(raw, BODY_HEADER_BYTES),
        headers_cut=(header_end.start() if header_end else len(raw)) > BODY_HEADER_BYTES,
        unix_from=unix_from_line(raw),
    )
    try:
        structure = read_structure(raw)
    except Exception as error:  # hostile MIME: keep the headers, say what went wrong
        message.parse_error = f"{type(error).__name__}: {error}"
        return message
    _take_structure(message, structure)
    message.links = find_links(message.text, message.html)
    return message


def _take_structure(message: Message, structure: Structure) -> None:
    """Choose the text and HTML bodies; every other leaf is an attachment."""
    message.tree, message.leaves = structure.tree, structure.leaves
    message.omitted_parts = structure.omitted_parts
    for leaf in structure.leaves:
        if _body_kind(leaf) == "text/plain" and message.text is None:
            message.text = leaf.text()
        elif _body_kind(leaf) == "text/html" and message.html is None:
            message.html = leaf.text()
        else:
            index = len(message.attachments)
            message.attachments.append(Attachment(index, leaf.part, leaf.data))


def _body_kind(leaf: Leaf) -> str | None:
    """Return text/plain or text/html for a part that can be a body (not a named file)."""
    part = leaf.part
    if part.disposition == "attachment" or part.filename:
        return None
    return part.content_type if part.content_type in ("text/plain", "text/html") else None


class _Pending:
    """A parse in flight: readers that arrive meanwhile wait for its result."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Message | None = None
        self.error: BaseException | None = None

    def wait(self) -> Message | None:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


class MessageCache:
    """Parsed messages by id, the least recently read dropped past a byte budget.

    Ids are never reused (the Store's promise), so an entry never goes stale; deleted
    messages are dropped with `forget`. A message bigger than the whole budget is parsed
    for its readers of the moment and not kept.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.parses = 0  # full parses done (readers that waited for one do not count)
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, Message] = OrderedDict()
        self._size = 0
        self._pending: dict[int, _Pending] = {}

    def get(self, message_id: int, load_raw: Callable[[int], bytes | None]) -> Message | None:
        """Return the message (None if it has no bytes), parsing it at most once at a time."""
        with self._lock:
            found = self._entries.get(message_id)
            if found is not None:
                self._entries.move_to_end(message_id)
                return found
            pending = self._pending.get(message_id)
            if pending is not None:
                leader = False
            else:
                pending = self._pending[message_id] = _Pending()
                leader = True
        return self._load(message_id, load_raw, pending) if leader else pending.wait()

    def _load(
        self, message_id: int, load_raw: Callable[[int], bytes | None], pending: _Pending
    ) -> Message | None:
        try:
            raw = load_raw(message_id)
            pending.result = read_message(raw) if raw is not None else None
        except BaseException as error:
            pending.error = error
            raise
        finally:
            with self._lock:
                del self._pending[message_id]
                if pending.result is not None:
                    self.parses += 1
                    self._keep(message_id, pending.result)
            pending.done.set()
        return pending.result

    def _keep(self, message_id: int, message: Message) -> None:
        if message.cost > self.max_bytes:
            return
        self._entries[message_id] = message
        self._size += message.cost
        while self._size > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._size -= dropped.cost

    def forget(self, message_ids: tuple[int, ...]) -> None:
        """Drop these messages (they were deleted)."""
        with self._lock:
            for message_id in message_ids:
                dropped = self._entries.pop(message_id, None)
                if dropped is not None:
                    self._size -= dropped.cost

"""Reading the message content after DATA (RFC 5321 §4.1.1.4 and §4.5.2).

aiosmtpd reads content line by line and refuses lines over 1000 octets; real applications send
such lines, so we read in large pieces instead, accept any line length, and still end only at
CRLF.CRLF (a bare-LF "\\n.\\n" never ends the data, which closes the smuggling hole).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

# How much one read may buffer while looking for an end; bounds memory per connection.
READ_LIMIT = 1 << 20
_END = b"\r\n.\r\n"


@dataclass
class Progress:
    """How many octets of content one DATA has read so far (the terminator excluded)."""

    received: int = 0


@dataclass
class Content:
    """The content after dot-unstuffing, or None when it exceeded the size limit."""

    data: bytes | None
    received: int  # octets received, terminator excluded


async def read_content(
    reader: asyncio.StreamReader, max_size: int, progress: Progress | None = None
) -> Content:
    """Read until CRLF.CRLF; keep at most max_size octets, drain the rest.

    `progress` counts the octets read as they come, for a session that ends meanwhile.
    """
    # StreamReader's limit is private; it also caps its buffer, so raise it only for DATA.
    saved = reader._limit  # type: ignore[attr-defined]
    reader._limit = READ_LIMIT  # type: ignore[attr-defined]
    try:
        return await _read(reader, max_size, progress or Progress())
    finally:
        reader._limit = saved  # type: ignore[attr-defined]


def buffered(reader: asyncio.StreamReader) -> int:
    """Return how many octets have arrived that the reader has not handed out yet."""
    return len(reader._buffer)  # type: ignore[attr-defined]


async def _read(reader: asyncio.StreamReader, max_size: int, progress: Progress) -> Content:
    parts: list[bytes] | None = []
    received = 0
    tail = b"\r\n"  # the DATA command's CRLF: content starts at the beginning of a line
    while True:
        chunk, may_end = await _next_chunk(reader)
        received += len(chunk)
        progress.received = received
        tail = (tail + chunk)[-len(_END) :]
        if parts is not None:
            parts.append(chunk)
            if received > max_size + len(_END):
                parts = None  # over the limit: keep reading to the end, keep nothing
        if may_end and tail == _END:
            break
    received -= 3  # the final ".\r\n"
    if parts is None:
        return Content(None, received)
    content = unstuff(b"".join(parts)[:-3])
    return Content(content if len(content) <= max_size else None, received)


async def _next_chunk(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """Return bytes up to the next ".\\r\\n" (True), or a large piece without one (False)."""
    try:
        return await reader.readuntil(b".\r\n"), True
    except asyncio.LimitOverrunError as error:
        return await reader.readexactly(error.consumed), False


def unstuff(data: bytes) -> bytes:
    """Remove the leading dot of each line that starts with one (RFC 5321 §4.5.2)."""
    if data.startswith(b"."):
        data = data[1:]
    return data.replace(b"\r\n.", b"\r\n")

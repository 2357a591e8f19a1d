"""mbox files (RFC 4155): read mboxo and mboxrd, write mboxrd.

A message starts at a line beginning with "From " (the separator, which names the sender
and the time) and ends with the empty line before the next one. mboxrd quotes every body
line matching `>*From ` with one more ">" and reading removes one, so our import of our
export gives back every byte; mboxo quotes only "From " and never undoes it, so its
`>From ` lines read back without their ">" (the format cannot tell the two apart).
Bytes go out as stored: CRLF line ends stay CRLF, only the separator lines are ours.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import IO

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.records import StoredMessage
from mailtrap_lite.transfer.items import Failure, Item

SEPARATOR = b"From "
UNKNOWN_SENDER = "MAILER-DAEMON"  # what mbox writers put when there is no sender
_QUOTED = re.compile(rb">+From ")
_NEEDS_QUOTE = re.compile(rb"^(>*From )", re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n|^\r?\n")


def separator_line(mail_from: str | None, received_at: str) -> bytes:
    """Return the "From sender asctime" line (UTC) that starts a message."""
    sender = mail_from if mail_from and not _has_space(mail_from) else ""
    when = dt.datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    stamp = time.asctime(when.astimezone(dt.UTC).timetuple())
    return f"From {sender or UNKNOWN_SENDER} {stamp}\n".encode("utf-8", "replace")


def _has_space(text: str) -> bool:
    return any(c.isspace() for c in text)


def mboxrd_message(message: StoredMessage) -> bytes:
    """Return a stored message as it stands in an mboxrd file."""
    return mboxrd_entry(message.raw, message.mail_from, message.received_at)


def mboxrd_entry(raw: bytes, mail_from: str | None, received_at: str) -> bytes:
    """Return a message as it stands in an mboxrd file: separator, quoted bytes, one LF.

    The LF after the bytes is the empty line that ends a message when its bytes end with a
    line end (always for SMTP mail); reading removes exactly that one LF again.
    """
    return separator_line(mail_from, received_at) + _NEEDS_QUOTE.sub(rb">\1", raw) + b"\n"


def read_mbox(stream: IO[bytes], name: str, max_size: int) -> Iterator[Item | Failure]:
    """Yield each message of an mbox file, or a failure naming it by number and line."""
    first = stream.readline()
    if not first:
        return  # an empty mbox holds no message
    if not first.startswith(SEPARATOR):
        yield Failure(name, 'not an mbox file: it does not start with a "From " line', "not-mbox")
        return
    reader = _MessageReader(name, max_size, first, 1, 1)
    line_number = 1
    for line in stream:
        line_number += 1
        if line.startswith(SEPARATOR):
            yield reader.finish(at_end=False)
            reader = _MessageReader(name, max_size, line, line_number, reader.ordinal + 1)
        else:
            reader.add(line)
    yield reader.finish(at_end=True)


class _MessageReader:
    """The lines of one message as they are read, bounded by the size limit."""

    def __init__(self, name: str, max_size: int, separator: bytes, line: int, ordinal: int):
        self.where = f"{name}: message {ordinal} (line {line})"
        self.ordinal = ordinal
        self.separator = separator
        self.max_size = max_size
        self.parts: list[bytes] = []
        self.size = 0
        self.last = separator

    def add(self, line: bytes) -> None:
        if line[:1] == b">" and _QUOTED.match(line):
            line = line[1:]
        self.size += len(line)
        self.last = line
        if self.size <= self.max_size + 2:  # the empty line that ends it is not the message's
            self.parts.append(line)

    def finish(self, at_end: bool) -> Item | Failure:
        if at_end and not self.last.endswith(b"\n"):
            return self._failure("truncated: the file ends inside a line", "truncated")
        raw = _without_end_line(b"".join(self.parts))
        if at_end and raw and not _HEADER_END.search(raw):
            return self._failure("truncated: the file ends inside its header", "truncated")
        if self.size > self.max_size + 2 or len(raw) > self.max_size:
            failure = too_large(self.where, self.size, self.max_size)
            failure.ordinal = self.ordinal
            return failure
        sender, received_at = parse_separator(self.separator)
        return Item(raw, self.where, received_at=received_at, mail_from=sender)

    def _failure(self, reason: str, kind: str) -> Failure:
        return Failure(self.where, reason, kind, self.ordinal)


def _without_end_line(raw: bytes) -> bytes:
    """Remove the empty line (LF, or CRLF in files written with CRLF) that ends a message."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
        if raw.endswith(b"\n\r"):  # a CRLF file: the message's own line end stays
            raw = raw[:-1]
    return raw


def too_large(where: str, size: int, limit: int) -> Failure:
    """Return the failure of a message over --max-message-size."""
    return Failure(where, f"{size} bytes, over --max-message-size {limit}", "too-large")


def parse_separator(line: bytes) -> tuple[str | None, str | None]:
    """Return the sender and the time (RFC 3339) of a "From " line, None where unknown."""
    words = line.decode("utf-8", "replace").split()
    sender = words[1] if len(words) > 1 and words[1] != UNKNOWN_SENDER else None
    return sender, _asctime(" ".join(words[2:7]))


def _asctime(text: str) -> str | None:
    try:
        when = dt.datetime.strptime(text, "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return rfc3339(when.replace(tzinfo=dt.UTC))

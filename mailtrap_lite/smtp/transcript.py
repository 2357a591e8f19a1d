"""Wire-level recording of an SMTP session: every client line and every server reply, in order.

The coupling to aiosmtpd's internals lives here and in `smtp.py` only: replies are seen in
`SMTP.push` (every reply goes through it) and client lines through a thin wrapper around the
session's `StreamReader` (aiosmtpd reads commands with `readuntil()` and AUTH responses with
`readline()`). Credentials never reach a transcript: AUTH arguments and every line that answers
a `334` challenge are masked (RFC 4954 §4), and message content is one line giving its size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.problems import ProblemFinder
from mailtrap_lite.store.records import RawLine

MASK = "****"


def replace_undecodable(text: str) -> str:
    """Return text that encodes as UTF-8: bytes that were not UTF-8 become U+FFFD.

    aiosmtpd decodes command arguments with surrogateescape, so HELO, MAIL FROM, RCPT TO and
    replies that echo an argument may carry lone surrogates, which neither SQLite nor the
    socket can encode (a UnicodeEncodeError there used to end the session badly).
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def now() -> str:
    """Return the current time as RFC 3339 UTC."""
    return rfc3339(dt.datetime.now(dt.UTC))


# A session's lines wait here until the Store takes them; past these they are written out as
# a chunk of their own, so that a long session neither grows in memory nor ends in one huge row.
FLUSH_LINES = 1000
FLUSH_BYTES = 64 * 1024


class TranscriptRecorder:
    """Collects one session's lines until the Store takes them, up to a cap per session.

    Every line is judged as it passes (`problems`, a ProblemFinder), those past the cap too.
    Past `max_lines` lines or `max_bytes` bytes (0: no cap) a session's further lines are
    counted, not kept: a note says where the cap was reached and `finish` adds how many
    lines were left out, while the session itself goes on.
    """

    def __init__(self, max_lines: int = 0, max_bytes: int = 0) -> None:
        self._pending: list[RawLine] = []
        self._pending_bytes = 0
        self.problems = ProblemFinder()
        self._awaiting_challenge_answer = False
        self.last_command: str | None = None
        self.quit_received = False
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self._kept_lines = self._kept_bytes = 0
        self.dropped = 0  # lines not kept past the cap

    def client(self, raw: bytes) -> None:
        """Record a line the client sent (CRLF stripped, credentials masked)."""
        text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if self._awaiting_challenge_answer:
            self._awaiting_challenge_answer = False
            self._add("client", text if text == "*" else MASK)
            return
        verb, _, arg = text.partition(" ")
        self.last_command = verb.upper()
        self.quit_received = self.last_command == "QUIT"
        if self.last_command == "AUTH":
            text = _mask_auth(verb, arg)
        self._add("client", text)

    def client_note(self, note: str) -> None:
        """Record a client-side event that is not a line (message content, an overlong line)."""
        self._awaiting_challenge_answer = False  # an overlong answer comes as a note
        self._add("client", note)

    def server(self, line: str, injected: bool = False) -> None:
        """Record a reply line; a 334 challenge means the next client line is a secret."""
        self._awaiting_challenge_answer = line.startswith("334")
        self._add("server", line, injected)

    def _add(self, direction: str, line: str, injected: bool = False) -> None:
        text = replace_undecodable(line)
        # Every line is judged, kept or not: a failure after the cap is still a problem.
        self.problems.see(direction, text, injected)
        size = len(text.encode("utf-8"))
        if self.dropped or self._over_cap(size):
            if not self.dropped:
                self._keep("server", self._cap_note())
            self.dropped += 1
            return
        self._keep(direction, text, injected, size)

    def _over_cap(self, size: int) -> bool:
        lines_full = self.max_lines and self._kept_lines >= self.max_lines
        bytes_full = self.max_bytes and self._kept_bytes + size > self.max_bytes
        return bool(lines_full or bytes_full)

    def _cap_note(self) -> str:
        return (
            f"<transcript limit reached ({self.max_lines or 'no'} lines,"
            f" {self.max_bytes or 'no'} bytes): later lines are counted, not kept>"
        )

    def _keep(self, direction: str, text: str, injected: bool = False, size: int = 0) -> None:
        self._pending.append((time.time(), direction, text, injected))
        self._pending_bytes += size
        self._kept_lines += 1
        self._kept_bytes += size

    @property
    def flush_due(self) -> bool:
        """Tell whether enough lines wait to be written out as a chunk of their own."""
        return len(self._pending) >= FLUSH_LINES or self._pending_bytes >= FLUSH_BYTES

    def take(self) -> list[RawLine]:
        """Return the lines recorded since the last take and forget them."""
        pending, self._pending = self._pending, []
        self._pending_bytes = 0
        return pending

    def finish(self) -> list[RawLine]:
        """Return the last lines of an ended session, with how many were not kept."""
        if self.dropped:
            note = f"<{self.dropped} further line(s) not kept: the transcript limit was reached>"
            self._pending.append((time.time(), "server", note, False))
        return self.take()

    def give_back(self, entries: list[RawLine]) -> None:
        """Put lines back in front (their store write failed), so none are lost."""
        self._pending = entries + self._pending
        self._pending_bytes += sum(len(entry[2]) for entry in entries)


def _mask_auth(verb: str, arg: str) -> str:
    mechanism, _, initial_response = arg.partition(" ")
    if initial_response:
        return f"{verb} {mechanism} {MASK}"
    return f"{verb} {arg}".rstrip()


class LineTooLong(ValueError):
    """A client line longer than the reader's limit; it has been read and dropped."""


class RecordingReader:
    """Wraps the session's StreamReader so that every line aiosmtpd reads is recorded.

    Attribute access falls through to the wrapped reader, because aiosmtpd touches its
    private state when STARTTLS swaps the transport.
    """

    def __init__(self, reader: asyncio.StreamReader, recorder: TranscriptRecorder) -> None:
        self.inner: asyncio.StreamReader
        object.__setattr__(self, "inner", reader)
        object.__setattr__(self, "recorder", recorder)
        object.__setattr__(self, "_overlong", 0)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Read one line and record it; an overlong line is recorded as a note."""
        try:
            line: bytes = await self.inner.readuntil(separator)
        except asyncio.LimitOverrunError as error:
            object.__setattr__(self, "_overlong", self._overlong + error.consumed)
            raise
        self._record(line)
        return line

    async def readline(self) -> bytes:
        """Read one line (an AUTH response) and record it; refuse one over the reader's limit.

        StreamReader.readline raises ValueError on an overlong line and may leave its rest
        unread, to be taken for the next command (two replies to one line); drain it instead.
        """
        try:
            line: bytes = await self.inner.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            line = error.partial  # the connection ended: what readline would return
        except asyncio.LimitOverrunError as error:
            size = await self._drain_line(error.consumed)
            self.recorder.client_note(f"<authentication line too long: {size} octets, not shown>")
            raise LineTooLong(size) from None
        self._record(line)
        return line

    async def _drain_line(self, consumed: int) -> int:
        """Drop the bytes up to the end of the line; return how many there were."""
        total = 0
        try:
            while True:
                try:
                    return total + len(await self.inner.readuntil(b"\n"))
                except asyncio.LimitOverrunError as error:
                    total += len(await self.inner.readexactly(max(error.consumed, consumed)))
                    consumed = 0
        except asyncio.IncompleteReadError as error:
            return total + len(error.partial)

    async def read(self, n: int = -1) -> bytes:
        """Read bytes (aiosmtpd discards overlong command lines this way)."""
        data: bytes = await self.inner.read(n)
        if self._overlong:
            object.__setattr__(self, "_overlong", self._overlong + len(data) - n)
        return data

    def _record(self, line: bytes) -> None:
        if self._overlong:
            size = self._overlong + len(line)
            object.__setattr__(self, "_overlong", 0)
            self.recorder.client_note(f"<command line too long: {size} octets, not shown>")
            self.recorder.last_command = ""  # unknown, but its reply still needs a code
            return
        self.recorder.client(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.inner, name, value)

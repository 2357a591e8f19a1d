"""Where a test view reads mail from: an in-process Sink, or a running server (remote.py).

A view asks its backend for the newest ids (a cursor), for the messages newer than an id,
and to block until something may have changed. The in-process backend follows the Store's
change feed; the remote one waits server-side with /api/v1/wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from mailtrap_lite.captured import MessageSource
from mailtrap_lite.feed import Change, ChangeFeed
from mailtrap_lite.records import MessageRecord
from mailtrap_lite.testing import Cursor, Sink


class Backend(Protocol):
    """What a test view needs from the place mail is captured."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def credentials(self) -> tuple[str, str] | None:
        """Return the SMTP AUTH user and password mail must be sent with, if any."""
        ...

    def cursor(self) -> Cursor:
        """Return the newest message and session ids now."""
        ...

    def version(self) -> int | None:
        """Return a value that changes whenever stored messages may change (None: unknown)."""
        ...

    def records(self, after: int) -> list[MessageRecord]:
        """Return the messages newer than id `after`, oldest first."""
        ...

    def source(self) -> MessageSource:
        """Return where captured messages load their bytes and sessions."""
        ...

    def wait(self, version: int | None, after: int, timeout: float) -> None:
        """Block until something may have changed since `version` / message `after`."""
        ...

    async def wait_async(self, version: int | None, after: int, timeout: float) -> None:
        """Like wait, without blocking the running event loop."""
        ...


class LocalBackend:
    """An in-process Sink: reads its Store, follows its change feed."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    @property
    def host(self) -> str:
        return self.sink.host

    @property
    def port(self) -> int:
        return self.sink.port

    @property
    def credentials(self) -> tuple[str, str] | None:
        return None  # any AUTH, or none, reaches an in-process sink

    @property
    def _feed(self) -> ChangeFeed:
        if self.sink.store is None:
            raise RuntimeError("the sink is not running")
        return self.sink.store.feed

    def cursor(self) -> Cursor:
        return self.sink.cursor()

    def version(self) -> int | None:
        return self._feed.seq

    def records(self, after: int) -> list[MessageRecord]:
        if self.sink.cursor().message_id <= after:
            return []  # nothing newer: skip the query
        return self.sink.messages(after=after)

    def source(self) -> MessageSource:
        if self.sink.store is None:
            raise RuntimeError("the sink is not running")
        return self.sink.store

    def wait(self, version: int | None, after: int, timeout: float) -> None:
        self._feed.wait(version if version is not None else self._feed.seq, timeout)

    async def wait_async(self, version: int | None, after: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake(_: Change) -> None:
            # Runs on the sink's thread; the test's loop may be gone by then.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(woken.set)

        unsubscribe = self._feed.subscribe(wake)
        try:
            if self._feed.seq == version:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout)
        finally:
            unsubscribe()


def as_backend(sink: Sink | Backend) -> Backend:
    """Return the backend of an in-process Sink, or the backend given."""
    return LocalBackend(sink) if isinstance(sink, Sink) else sink

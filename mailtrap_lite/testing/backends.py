"""Where a test view reads mail from: an in-process sink, or a running server (remote.py).

A view asks its backend for the newest ids (a cursor), for the messages newer than an id,
and to block until something may have changed. The in-process backend follows the Store's
change feed; the remote one waits server-side with /api/v1/wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Protocol

from mailtrap_lite.checks import Report, StoredReports
from mailtrap_lite.message import Message
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change, ChangeFeed
from mailtrap_lite.store.records import MessageRecord, SessionRecord
from mailtrap_lite.testing.captured import MessageSource

ALL = 1_000_000  # more messages than any test sends


@dataclass(frozen=True)
class Cursor:
    """The newest message id and session id at one moment; later ones are newer than it."""

    message_id: int = 0
    session_id: int = 0


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

    def fault_rules(self) -> FaultRules:
        """Return the fault rules to change (NotImplementedError where there are none)."""
        ...

    def wait(self, version: int | None, after: int, timeout: float) -> None:
        """Block until something may have changed since `version` / message `after`."""
        ...

    async def wait_async(self, version: int | None, after: int, timeout: float) -> None:
        """Like wait, without blocking the running event loop."""
        ...


class LocalSink(Protocol):
    """An in-process sink as a LocalBackend sees it (mailtrap_lite.testing.Sink)."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def store(self) -> Store: ...

    @property
    def faults(self) -> FaultRules: ...

    @property
    def reports(self) -> StoredReports: ...

    def cursor(self) -> Cursor: ...


@dataclass(frozen=True)
class LocalSource:
    """A captured message's source in process: the Store, and the App's reports."""

    store: Store
    reports: StoredReports

    def raw(self, message_id: int) -> bytes | None:
        return self.store.raw(message_id)

    def read_message(self, message_id: int) -> Message | None:
        return self.store.read_message(message_id)

    def get_session(self, session_id: int) -> SessionRecord | None:
        return self.store.get_session(session_id)

    def report(self, message_id: int) -> Report | None:
        return self.reports.report(message_id)


class LocalBackend:
    """An in-process sink: reads its Store, follows its change feed."""

    def __init__(self, sink: LocalSink) -> None:
        self.sink = sink
        self._source: LocalSource | None = None

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
        return self.sink.store.feed

    def cursor(self) -> Cursor:
        return self.sink.cursor()

    def version(self) -> int | None:
        return self._feed.seq

    def records(self, after: int) -> list[MessageRecord]:
        if self.sink.cursor().message_id <= after:
            return []  # nothing newer: skip the query
        page = self.sink.store.list_messages(limit=ALL, after=after)
        return list(reversed(page.messages))

    def source(self) -> MessageSource:
        store = self.sink.store
        if self._source is None or self._source.store is not store:  # a restarted sink
            self._source = LocalSource(store, self.sink.reports)
        return self._source

    def fault_rules(self) -> FaultRules:
        return self.sink.faults

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


class HasBackend(Protocol):
    """A sink that test views read through a backend (a running Sink, a RemoteInbox)."""

    @property
    def backend(self) -> Backend: ...

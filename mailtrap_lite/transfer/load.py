"""Importing: messages from any source into a Store or a running server, in batches.

Each source (a file, a folder, a server to migrate from) gets a session of kind `import`
that names it. Messages go in as SMTP mail does (the same summary, warnings and, once a
server's indexer sees them, search index), a batch per transaction: a run stopped part of
the way (Ctrl-C) leaves every batch committed before it and nothing of the next.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store import Store
from mailtrap_lite.store.records import RawLine
from mailtrap_lite.transfer.envelope import new_message
from mailtrap_lite.transfer.items import Failure, Item

BATCH = 500  # messages per transaction
BATCH_BYTES = 8 * 1024 * 1024  # raw bytes per transaction, so that memory stays bounded


@dataclass
class Tally:
    """How a run went: done, skipped as duplicates, failed (with reasons), where it stopped."""

    done: int = 0
    skipped: int = 0
    failed: list[Failure] = field(default_factory=list)
    stopped_at: str | None = None  # where an interrupted run stopped (None: it finished)
    session_ids: list[int] = field(default_factory=list)

    @property
    def seen(self) -> int:
        """Return how many messages were handled, whatever became of them."""
        return self.done + self.skipped + len(self.failed)


Progress = Callable[[Tally], None]


def never() -> bool:
    """Return False: a run that nothing stops."""
    return False


class Target(Protocol):
    """Where an import puts messages: a Store, or a running server through its API."""

    def begin(self, source: str, tally: Tally) -> None:
        """Start importing one source."""

    def commit(self, items: list[Item]) -> tuple[int, int, list[Failure]]:
        """Store a batch; return how many were stored, skipped as duplicates, and failures."""

    def end(self, line: str, stopped: bool) -> None:
        """Finish the source; `line` says what came of it."""


@dataclass
class Importer:
    """Reads sources, batches their messages into a target, keeps the tally, stops cleanly."""

    target: Target
    progress: Progress | None = None
    stopping: Callable[[], bool] = never
    on_failure: Callable[[Failure], None] | None = None
    tally: Tally = field(default_factory=Tally)

    def run(self, source: str, found: Iterable[Item | Failure]) -> Tally:
        """Import what one source yields; return the tally of the whole run so far."""
        if self.tally.stopped_at is not None:
            return self.tally
        self.target.begin(source, self.tally)
        before = (self.tally.done, self.tally.skipped, len(self.tally.failed))
        pending: list[Item] = []
        size = 0
        for entry in found:
            if self.stopping():
                self.tally.stopped_at = entry.where
                break
            if isinstance(entry, Failure):
                self._fail(entry)
                continue
            pending.append(entry)
            size += len(entry.raw)
            if len(pending) >= BATCH or size >= BATCH_BYTES:
                self._commit(pending)
                pending, size = [], 0
        self._commit(pending)
        self.target.end(self._line(before), self.tally.stopped_at is not None)
        return self.tally

    def _fail(self, failure: Failure) -> None:
        self.tally.failed.append(failure)
        if self.on_failure is not None:
            self.on_failure(failure)

    def _commit(self, pending: list[Item]) -> None:
        if not pending:
            return
        stored, skipped, failures = self.target.commit(pending)
        self.tally.done += stored
        self.tally.skipped += skipped
        for failure in failures:
            self._fail(failure)
        if self.progress is not None:
            self.progress(self.tally)

    def _line(self, before: tuple[int, int, int]) -> str:
        line = (f"imported {self.tally.done - before[0]}, skipped {self.tally.skipped - before[1]}"
                f" duplicates, failed {len(self.tally.failed) - before[2]}")  # fmt: skip
        if self.tally.stopped_at is not None:
            line += f"; stopped at {self.tally.stopped_at}"
        return line


class StoreTarget:
    """Imports into a Store: a session of kind `import` per source, a transaction per batch.

    Every message stored gets `tags` (checked names: `import --tag`, `POST /import?tag=`).
    """

    def __init__(
        self,
        store: Store,
        inbox: str = "default",
        keep_duplicates: bool = False,
        tags: Sequence[str] = (),
    ):
        self.store = store
        self.inbox = inbox
        self.keep_duplicates = keep_duplicates
        self.tags = list(tags)
        self._session: int | None = None

    def begin(self, source: str, tally: Tally) -> None:
        """Open the source's session."""
        self._session = self.store.open_session(source, now(), kind="import")
        tally.session_ids.append(self._session)

    def commit(self, items: list[Item]) -> tuple[int, int, list[Failure]]:
        """Store a batch in one transaction."""
        batch = [new_message(item, self.inbox, self._session, self.tags) for item in items]
        ids = self.store.import_messages(batch, self.keep_duplicates)
        stored = sum(1 for i in ids if i is not None)
        return stored, len(ids) - stored, []

    def end(self, line: str, stopped: bool) -> None:
        """End the session with a transcript line saying what came of the source."""
        if self._session is None:
            return
        note: list[RawLine] = [(time.time(), "server", line, False)]
        reason = "shutdown" if stopped else "quit"
        self.store.end_session(self._session, reason, now(), note, {"inbox": self.inbox})
        self._session = None


def now() -> str:
    """Return the current time as RFC 3339 UTC."""
    return rfc3339(dt.datetime.now(dt.UTC))


class StopFlag:
    """Set from a signal handler (Ctrl-C), read between messages: a clean place to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Ask the run to stop after the message at hand."""
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()

"""Group commit: messages whose DATA ends in the same event-loop turn share one transaction.

Under load several sessions finish their DATA in one turn of the loop. Committing them
together writes each touched database page once instead of once per message, and the
commit's fixed cost is paid once. A lone message waits for nothing more than the rest of
the current turn: the commit is scheduled with call_soon, never with a timer.

A store whose commit waits on a database server (`Store.commits_wait_on_server`, PostgreSQL)
is committed on a thread of its own instead, one batch at a time: while a batch waits for the
server, the loop goes on reading the other sessions, and what arrives meanwhile is the next
batch. Run on the loop, each commit stopped every session for its whole round trip and the
batches stayed at one message (measured: 317 msg/s against 1,318 on SQLite, 8 clients).
SQLite commits on the loop: handing work to a thread cost more than its commit (DESIGN.md).
While another thread writes (the indexer saving search rows), a commit on the loop does not
block it: it is tried again RETRY_DELAY later, the loop meanwhile serving the other sessions
(whose messages join the same commit), and after MAX_DEFER it waits for the writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from mailtrap_lite.store import Delivery, StorageError, Store

log = logging.getLogger(__name__)

RETRY_DELAY = 0.001  # seconds between tries while another thread writes
MAX_DEFER = 0.05  # seconds a commit waits that way; then the loop waits for the writer

Waiting = tuple[Delivery, "asyncio.Future[int]"]
Outcome = int | Exception


class GroupCommit:
    """Collects deliveries during one loop turn (or one commit) and commits them together."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[Waiting] = []
        self._thread: ThreadPoolExecutor | None = None
        if store.commits_wait_on_server:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="mailtrap-lite-commit")
        self._in_flight: asyncio.Future[None] | None = None
        self._deferred_since: float | None = None  # loop time of the first deferred try

    async def add(self, delivery: Delivery) -> int:
        """Commit `delivery` with whatever else arrives in this turn; return its message id.

        Raises StorageError when it cannot be stored. Once queued, the delivery is committed
        even if the caller is cancelled (say, the client went away before the reply).
        """
        loop = asyncio.get_running_loop()
        idle = self._in_flight is None and self._deferred_since is None
        if not self._pending and idle:
            loop.call_soon(self._commit)
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((delivery, future))
        return await future

    async def drain(self) -> None:
        """Wait until every queued delivery is committed; stop the commit thread."""
        while self._in_flight is not None or self._pending:
            if self._in_flight is not None:
                await asyncio.shield(self._in_flight)
            else:
                await asyncio.sleep(0)
        if self._thread is not None:
            self._thread.shutdown(wait=True)

    def _commit(self) -> None:
        if self._thread is not None:
            self._commit_on_thread(self._thread)
            return
        deliveries = [delivery for delivery, _ in self._pending]
        if not deliveries:
            return
        outcomes = self._outcomes(deliveries, may_defer=True)
        if outcomes is None:
            return  # tried again soon
        batch, self._pending = self._pending, []
        self._deferred_since = None
        _settle(batch, outcomes)

    def _commit_on_thread(self, thread: ThreadPoolExecutor) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        loop = asyncio.get_running_loop()
        done: Future[list[Outcome] | None] = thread.submit(
            self._outcomes, [delivery for delivery, _ in batch]
        )
        self._in_flight = loop.create_future()
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(self._committed, batch, f))

    def _committed(self, batch: list[Waiting], done: Future[list[Outcome] | None]) -> None:
        """Answer a batch the thread committed, then start the next one (on the loop)."""
        error = done.exception()
        outcomes = done.result() if error is None else None
        failed: list[Outcome] = [StorageError(f"commit failed: {error!r}")] * len(batch)
        _settle(batch, outcomes if outcomes is not None else failed)
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.set_result(None)
        self._commit()

    def _outcomes(
        self, deliveries: Sequence[Delivery], may_defer: bool = False
    ) -> list[Outcome] | None:
        """Commit deliveries together; each gets its id or the error that refused it.

        None (only if `may_defer`): another thread writes, and the commit is tried again soon.
        """
        try:
            stored = self._store(deliveries) if may_defer else self.store.add_messages(deliveries)
            return None if stored is None else list(stored)
        except StorageError as error:
            # One by one, so that a message the database refuses fails alone.
            return [error] if len(deliveries) == 1 else [self._commit_one(d) for d in deliveries]
        except Exception as error:  # a bug: fail the sessions waiting (451), never hang them
            log.exception("group commit failed")
            return [error] * len(deliveries)

    def _store(self, deliveries: Sequence[Delivery]) -> list[int] | None:
        """Commit, unless another thread writes and the batch has not waited MAX_DEFER yet.

        None: the commit is scheduled again RETRY_DELAY later.
        """
        loop = asyncio.get_running_loop()
        if self._deferred_since is not None and loop.time() - self._deferred_since >= MAX_DEFER:
            return self.store.add_messages(deliveries)
        stored = self.store.add_messages_unless_busy(deliveries)
        if stored is None:
            if self._deferred_since is None:
                self._deferred_since = loop.time()
            loop.call_later(RETRY_DELAY, self._commit)
        return stored

    def _commit_one(self, delivery: Delivery) -> Outcome:
        try:
            return self.store.add_messages([delivery])[0]
        except StorageError as error:
            return error


def _settle(batch: list[Waiting], outcomes: list[Outcome]) -> None:
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():  # its handler was cancelled; the message is stored all the same
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

"""Group commit: messages whose DATA ends in the same event-loop turn share one transaction.

Under load several sessions finish their DATA in one turn of the loop. Committing them
together writes each touched database page once instead of once per message, and the
commit's fixed cost is paid once. A lone message waits for nothing more than the rest of
the current turn: the commit is scheduled with call_soon, never with a timer.

While another thread writes (the indexer saving search rows), the commit does not block the
loop: it is tried again RETRY_DELAY later, the loop meanwhile serving the other sessions
(whose messages join the same commit), and after MAX_DEFER it waits for the writer.
"""

from __future__ import annotations

import asyncio
import logging

from mailtrap_lite.store import Delivery, StorageError, Store

log = logging.getLogger(__name__)

RETRY_DELAY = 0.001  # seconds between tries while another thread writes
MAX_DEFER = 0.05  # seconds a commit waits that way; then the loop waits for the writer

Waiting = tuple[Delivery, "asyncio.Future[int]"]


class GroupCommit:
    """Collects deliveries during one loop turn and commits them at its end."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[Waiting] = []
        self._deferred_since: float | None = None  # loop time of the first deferred try

    async def add(self, delivery: Delivery) -> int:
        """Commit `delivery` with whatever else arrives in this turn; return its message id.

        Raises StorageError when it cannot be stored. Once queued, the delivery is committed
        even if the caller is cancelled (say, the client went away before the reply).
        """
        loop = asyncio.get_running_loop()
        if not self._pending and self._deferred_since is None:
            loop.call_soon(self._commit)
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((delivery, future))
        return await future

    def _commit(self) -> None:
        deliveries = [delivery for delivery, _ in self._pending]
        outcomes: list[int | Exception]
        try:
            stored = self._store(deliveries)
            if stored is None:
                return  # tried again soon
            outcomes = list(stored)
        except StorageError as error:
            # One by one, so that a message the database refuses fails alone.
            alone = len(deliveries) == 1
            outcomes = [error] if alone else [self._commit_one(d) for d in deliveries]
        except Exception as error:  # a bug: fail the sessions waiting (451), never hang them
            log.exception("group commit failed")
            outcomes = [error] * len(deliveries)
        self._settle(outcomes)

    def _store(self, deliveries: list[Delivery]) -> list[int] | None:
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

    def _settle(self, outcomes: list[int | Exception]) -> None:
        """Give each waiting delivery its id or its error; the next commit starts afresh."""
        batch, self._pending = self._pending, []
        self._deferred_since = None
        futures = [future for _, future in batch]
        for future, outcome in zip(futures, outcomes, strict=True):
            if future.done():  # its handler was cancelled; the message is stored all the same
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _commit_one(self, delivery: Delivery) -> int | Exception:
        try:
            return self.store.add_messages([delivery])[0]
        except StorageError as error:
            return error

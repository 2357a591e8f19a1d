"""Group commit: messages whose DATA ends in the same event-loop turn share one transaction.

Under load several sessions finish their DATA in one turn of the loop. Committing them
together writes each touched database page once instead of once per message, and the
commit's fixed cost is paid once. A lone message waits for nothing more than the rest of
the current turn: the commit is scheduled with call_soon, never with a timer.
"""

from __future__ import annotations

import asyncio
import logging

from mailtrap_lite.store import Delivery, StorageError, Store

log = logging.getLogger(__name__)

Waiting = tuple[Delivery, "asyncio.Future[int]"]


class GroupCommit:
    """Collects deliveries during one loop turn and commits them at its end."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[Waiting] = []

    async def add(self, delivery: Delivery) -> int:
        """Commit `delivery` with whatever else arrives in this turn; return its message id.

        Raises StorageError when it cannot be stored. Once queued, the delivery is committed
        even if the caller is cancelled (say, the client went away before the reply).
        """
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._commit)
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((delivery, future))
        return await future

    def _commit(self) -> None:
        batch, self._pending = self._pending, []
        futures = [future for _, future in batch]
        outcomes: list[int | Exception]
        try:
            outcomes = list(self.store.add_messages([delivery for delivery, _ in batch]))
        except StorageError as error:
            # One by one, so that a message the database refuses fails alone.
            outcomes = [error] if len(batch) == 1 else [self._commit_one(d) for d, _ in batch]
        except Exception as error:  # a bug: fail the sessions waiting (451), never hang them
            log.exception("group commit failed")
            outcomes = [error] * len(batch)
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

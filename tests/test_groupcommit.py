"""Group commit: deliveries of one loop turn share a transaction, yet succeed or fail alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from mailtrap_lite.smtp.groupcommit import GroupCommit
from mailtrap_lite.store import Delivery, StorageError
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.test_store import new_message


class CountingStore(SQLiteStore):
    """A real Store that remembers how many messages each transaction tried to commit."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    def add_messages(self, batch: Sequence[Delivery]) -> list[int]:
        self.batches.append(len(batch))
        return super().add_messages(batch)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CountingStore]:
    opened = CountingStore(tmp_path / "mail.db")
    yield opened
    opened.close()


def test_deliveries_of_one_turn_share_one_transaction_in_order(store: CountingStore) -> None:
    async def deliver() -> list[int]:
        commits = GroupCommit(store)
        return list(
            await asyncio.gather(*(commits.add(Delivery(new_message(n))) for n in range(5)))
        )

    ids = asyncio.run(deliver())
    assert store.batches == [5]
    assert ids == sorted(ids) and len(set(ids)) == 5
    subjects = [store.get_message(i).subject for i in ids]  # type: ignore[union-attr]
    assert subjects == [f"message {n}" for n in range(5)]


def test_a_lone_delivery_is_committed_in_the_same_turn(store: CountingStore) -> None:
    async def deliver() -> int:
        return await GroupCommit(store).add(Delivery(new_message()))

    message_id = asyncio.run(deliver())
    assert store.batches == [1] and store.get_message(message_id) is not None


def test_a_refused_delivery_fails_alone(store: CountingStore) -> None:
    refused = replace(new_message(1), inbox=None)  # NOT NULL: the database refuses it

    async def deliver() -> list[int | BaseException]:
        commits = GroupCommit(store)
        batch = [new_message(0), refused, new_message(2)]
        waits = (commits.add(Delivery(m)) for m in batch)  # type: ignore[arg-type]
        return list(await asyncio.gather(*waits, return_exceptions=True))

    first, error, third = asyncio.run(deliver())
    assert isinstance(error, StorageError)
    assert isinstance(first, int) and isinstance(third, int)
    assert store.list_messages().total == 2
    assert store.batches == [3, 1, 1, 1]  # the batch failed, then each went alone


def test_a_cancelled_waiter_still_gets_its_message_stored(store: CountingStore) -> None:
    async def deliver_and_cancel() -> None:
        waiter = asyncio.ensure_future(GroupCommit(store).add(Delivery(new_message())))
        await asyncio.sleep(0)  # queued: the commit is scheduled for the end of this turn
        waiter.cancel()
        await asyncio.sleep(0)
        assert waiter.cancelled()

    asyncio.run(deliver_and_cancel())
    assert store.list_messages().total == 1


def test_a_commit_waits_for_another_writer_without_stopping_the_loop(
    store: CountingStore,
) -> None:
    held, release = threading.Event(), threading.Event()
    released_by_the_loop: list[bool] = []

    def write_elsewhere() -> None:  # another thread holding the writer, as the indexer does
        with store._transaction():
            held.set()
            released_by_the_loop.append(release.wait(10))

    async def deliver() -> tuple[int, int]:
        turns = 0

        async def other_sessions() -> None:
            nonlocal turns
            while not release.is_set():
                turns += 1
                if turns == 5:
                    release.set()  # the loop ran while the delivery was waiting
                await asyncio.sleep(0)

        results = await asyncio.gather(GroupCommit(store).add(Delivery(new_message())),
                                       other_sessions())  # fmt: skip
        return results[0], turns

    writer = threading.Thread(target=write_elsewhere)
    writer.start()
    assert held.wait(10)
    message_id, turns = asyncio.run(deliver())
    writer.join()
    assert released_by_the_loop == [True]  # the loop went on while the delivery waited
    assert turns >= 5 and store.get_message(message_id) is not None

"""What only the PostgreSQL Store has to prove: commit-ordered ids across writers, durable
commits, migrations under a lock and from an older schema, rows that go with their message,
and text PostgreSQL cannot hold.

The behaviour both backends share is tested once for both (test_store.py, test_search.py,
the API tests); these tests use this worker's throwaway cluster directly.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from importlib import resources
from typing import Any

import psycopg
import pytest

from mailtrap_lite.smtp.groupcommit import GroupCommit
from mailtrap_lite.store import Delivery, StorageError, Store
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.records import ReleaseRecord
from tests.apiserver import index_all, store_message, until
from tests.backends import PostgresBackend
from tests.pgcluster import Cluster
from tests.test_store import new_message


@pytest.fixture
def pg(pg_cluster: Cluster) -> PostgresBackend:
    return PostgresBackend(pg_cluster)


@pytest.fixture
def url(pg: PostgresBackend) -> Iterator[str]:
    with pg.database() as database:
        yield database


def _waiting_for(conn: psycopg.Connection[Any], lock_type: str) -> int:
    """Count sessions of this database waiting for a lock of this type."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = %s",
        (lock_type,),
    ).fetchone()
    return int(row[0]) if row else 0


def _in_thread(action: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(action()), daemon=True)
    thread.start()
    return thread, result


def test_ids_follow_commit_order_when_the_first_writer_commits_last(
    pg: PostgresBackend, url: str
) -> None:
    """Writer A takes an id and stalls before its commit; writer B must not overtake it.

    A plain sequence would give B the next id and let it commit first: a reader resuming
    `after=` B's id would never see A's message. Under the message lock B waits instead.
    """
    first, second = pg.open(url), pg.open(url)  # two writers, as two nodes would be
    watcher = psycopg.connect(url, autocommit=True)
    blocker = psycopg.connect(url)
    try:
        # Hold the row A updates right after taking its id, so A stalls inside its transaction.
        blocker.execute("SELECT value FROM counters WHERE name = 'messages' FOR UPDATE")
        a_thread, a_ids = _in_thread(lambda: first.add_message(new_message(1)))
        until(lambda: _waiting_for(watcher, "transactionid"), timeout=10)
        b_thread, b_ids = _in_thread(lambda: second.add_message(new_message(2)))
        until(lambda: _waiting_for(watcher, "advisory"), timeout=10)  # B waits for A's commit
        reader_saw = [m.id for m in second.list_messages(after=0).messages]
        blocker.rollback()
        a_thread.join(10)
        b_thread.join(10)
        assert reader_saw == []
        assert a_ids[0] < b_ids[0]
        after_a = [m.id for m in second.list_messages(after=a_ids[0]).messages]
        assert after_a == [b_ids[0]]
    finally:
        blocker.close()
        watcher.close()
        first.close()
        second.close()


def test_a_reader_following_after_never_skips_a_message_of_concurrent_writers(
    pg: PostgresBackend, url: str
) -> None:
    writers = [pg.open(url) for _ in range(3)]
    reader = pg.open(url)
    acknowledged: list[int] = []
    seen: list[int] = []
    done = threading.Event()

    def write(store: Store, label: int) -> None:
        for n in range(40):
            acknowledged.append(store.add_message(new_message(label * 100 + n)))

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()  # read before listing: one last pass after the writers
            page = reader.list_messages(after=cursor, limit=1000).messages
            seen.extend(sorted(m.id for m in page))
            cursor = max([cursor, *(m.id for m in page)])
            if finished:
                return

    try:
        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        threads = [threading.Thread(target=write, args=(w, i)) for i, w in enumerate(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        done.set()
        follower.join(60)
        assert sorted(acknowledged) == seen  # every id once, in order: nothing skipped
    finally:
        for store in (*writers, reader):
            store.close()


def test_every_connection_commits_synchronously(pg: PostgresBackend, url: str) -> None:
    """A 250 follows a COMMIT that PostgreSQL made durable, whatever the server's default."""
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                sql.Identifier(url.rpartition("/")[2])
            )
        )
    store = pg.open(url)
    try:
        with store._read() as conn:  # type: ignore[attr-defined]
            row = conn.execute("SHOW synchronous_commit").fetchone()
        assert row is not None and row[0] == "on"
    finally:
        store.close()


def test_nodes_starting_together_apply_the_schema_once(pg: PostgresBackend) -> None:
    url = pg.cluster.new_database(template="template0")
    try:
        threads = [_in_thread(lambda: pg.open(url)) for _ in range(4)]
        stores = []
        for thread, result in threads:
            thread.join(60)
            stores += result
        assert len(stores) == 4
        with psycopg.connect(url) as conn:
            versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        assert versions == sorted(set(versions)) and versions[-1] >= 1
        for store in stores:
            store.close()
    finally:
        pg.cluster.drop_database(url)


def test_text_with_nul_characters_is_stored_and_searchable(pg: PostgresBackend) -> None:
    raw = b"Subject: zero\x00byte\r\nX-Tag: a\x00b\r\n\r\nbody with a \x00 and findme\r\n"
    with pg.store() as store:
        message_id = store_message(store, raw)
        index_all(store)
        assert store.raw(message_id) == raw
        assert [m.id for m in store.list_messages(query=parse_query("findme")).messages] == [
            message_id
        ]


def test_a_deleted_message_leaves_no_rows_behind(pg: PostgresBackend, url: str) -> None:
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nX-Tag: t\r\nSubject: s\r\n\r\nbody\r\n"
    store = pg.open(url)
    try:
        message_id = store_message(store, raw)
        index_all(store)
        store.delete_messages([message_id])
        with psycopg.connect(url) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in ("message_raw", "message_text", "message_headers", "message_addresses")
            ]
        assert counts == [0, 0, 0, 0] and store.stats()["messages"] == 0
    finally:
        store.close()


def test_a_deleted_message_takes_its_tags_and_releases_along(pg: PostgresBackend, url: str) -> None:
    store = pg.open(url)
    try:
        message_id = store_message(store, b"Subject: s\r\n\r\nbody\r\n")
        store.add_tags([message_id], ["kept"])
        store.add_release(ReleaseRecord(message_id, None, "2024-05-10T12:00:00.000Z", ["a@b.c"],
                                        True, "250 ok"))  # fmt: skip
        store.delete_messages([message_id])
        with psycopg.connect(url) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in ("message_tags", "releases")
            ]
        assert counts == [0, 0] and store.tags() == []
    finally:
        store.close()


def test_a_database_of_schema_1_is_upgraded_and_its_sessions_judged(pg: PostgresBackend) -> None:
    """A database a previous release wrote: no tags, and sessions without problems."""
    url = pg.cluster.new_database(template="template0")
    try:
        schema = resources.files("mailtrap_lite.store.postgres.schema") / "001_initial.sql"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(schema.read_text(encoding="utf-8").encode())
            conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (1)")
            conn.execute("INSERT INTO sessions (id, peer, started_at, ended_at, end_reason)"
                         " VALUES (7, '127.0.0.1:9', '2024-05-10T12:00:00.000Z',"
                         " '2024-05-10T12:00:01.000Z', 'quit')")  # fmt: skip
            entries = json.dumps([[1.0, "client", "RCPT TO:<c@x>", False],
                                  [1.0, "server", "550 5.1.1 No", False]])  # fmt: skip
            conn.execute("INSERT INTO transcript_chunks VALUES (7, 0, %s)", (entries,))
        store = pg.open(url)
        try:
            session = store.get_session(7, transcript=False)
            assert session is not None
            assert [p.code for p in session.problems] == ["permanent-failure"]
            message_id = store_message(store, b"Subject: s\r\n\r\nbody\r\n")
            store.add_tags([message_id], ["new"])
            assert store.tags() == [("new", 1, 1)]
        finally:
            store.close()
    finally:
        pg.cluster.drop_database(url)


def test_the_full_check_reads_every_row_and_opens_a_sound_database(
    pg: PostgresBackend, url: str
) -> None:
    store = pg.open(url)
    message_id = store_message(store, b"Subject: s\r\n\r\n" + b"x" * 100_000 + b"\r\n")
    store.close()
    checked = pg.open(url, check="full")
    try:
        assert checked.raw_start(message_id, 10) == b"Subject: s"
    finally:
        checked.close()


def test_a_read_only_store_reads_beside_a_writer_and_refuses_writes(
    pg: PostgresBackend, url: str
) -> None:
    writer = pg.open(url)
    reader = pg.open(url, read_only=True)
    try:
        message_id = store_message(writer, b"Subject: s\r\n\r\nbody\r\n")
        assert [m.raw for m in reader.export_messages()] == [b"Subject: s\r\n\r\nbody\r\n"]
        with pytest.raises(StorageError, match="read-only"):
            reader.set_read(message_id, True)
    finally:
        reader.close()
        writer.close()


def test_deliveries_of_one_loop_turn_are_committed_in_one_transaction(
    pg: PostgresBackend, url: str
) -> None:
    store = pg.open(url)

    async def deliver() -> list[int]:
        commits = GroupCommit(store)
        return list(
            await asyncio.gather(*(commits.add(Delivery(new_message(n))) for n in range(5)))
        )

    try:
        ids = asyncio.run(deliver())
        with psycopg.connect(url) as conn:  # xmin: the transaction that wrote each row
            writers = conn.execute("SELECT DISTINCT xmin::text FROM messages").fetchall()
        assert len(writers) == 1 and ids == sorted(ids) and len(set(ids)) == 5
    finally:
        store.close()


def test_deliveries_arriving_while_a_commit_waits_form_the_next_batch(
    pg: PostgresBackend, url: str
) -> None:
    store = pg.open(url)
    blocker = psycopg.connect(url)
    watcher = psycopg.connect(url, autocommit=True)

    async def deliver() -> list[int]:
        commits = GroupCommit(store)
        first = asyncio.ensure_future(commits.add(Delivery(new_message(0))))
        # the first batch now waits on the server (the row it updates is held)
        while not await asyncio.to_thread(_waiting_for, watcher, "transactionid"):
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(commits.add(Delivery(new_message(n)))) for n in range(1, 5)]
        await asyncio.sleep(0.05)  # the loop kept running: all four are queued
        blocker.rollback()
        ids = await asyncio.gather(first, *rest)
        await commits.drain()
        return list(ids)

    try:
        blocker.execute("SELECT value FROM counters WHERE name = 'messages' FOR UPDATE")
        ids = asyncio.run(deliver())
        with psycopg.connect(url) as conn:
            sizes = [row[0] for row in conn.execute(
                "SELECT count(*) FROM messages GROUP BY xmin::text ORDER BY min(id)")]  # fmt: skip
        assert sizes == [1, 4] and ids == sorted(ids)
    finally:
        blocker.close()
        watcher.close()
        store.close()

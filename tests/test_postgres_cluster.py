"""Several Stores on one PostgreSQL database, as the nodes of a team's sink use it.

Two PostgresStore objects opened on the same database and started as nodes stand for two
server processes here (each has its own pool, LISTEN connection and heartbeat), so that the
work queue, the catch-up after a lost connection and the node registry can be driven step by
step. tests/test_postgres_nodes.py runs real server processes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from importlib import resources

import psycopg
import pytest

from mailtrap_lite.mime.headers import Summary
from mailtrap_lite.store.feed import Change
from mailtrap_lite.store.postgres import PostgresStore
from mailtrap_lite.store.records import NewMessage
from tests.apiserver import until
from tests.backends import PostgresBackend
from tests.pgcluster import Cluster

STARTED = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def url(pg_cluster: Cluster) -> Iterator[str]:
    database = pg_cluster.new_database()
    yield database
    pg_cluster.drop_database(database)


@pytest.fixture
def open_node(pg_cluster: Cluster, url: str) -> Iterator[object]:
    """Open Stores on the test's database, started as nodes; all closed at teardown."""
    opened: list[PostgresStore] = []

    def open_one(timeout: float = 30.0, start: bool = True) -> PostgresStore:
        store = PostgresBackend(pg_cluster).open(url)
        assert isinstance(store, PostgresStore)
        opened.append(store)
        if start:
            store.start_node(timeout)
            assert store.shared_feed is not None
            until(store.shared_feed.connected.is_set)
        return store

    yield open_one
    for store in opened:
        store.close()


def _new(subject: str, session_id: int | None = None) -> NewMessage:
    raw = f"Subject: {subject}\r\n\r\nbody\r\n".encode()
    return NewMessage(inbox="default", session_id=session_id, received_at=STARTED,
                      mail_from="a@example.com", mail_options=[], rcpt_to=["b@example.com"],
                      summary=Summary(subject=subject), raw=raw, warnings=[])  # fmt: skip


def _changes(store: PostgresStore) -> list[Change]:
    seen: list[Change] = []
    store.feed.subscribe(seen.append)
    return seen


def test_two_nodes_never_take_the_same_message_to_index(open_node) -> None:
    a, b = open_node(), open_node()
    ids = [a.add_message(_new(f"m{n}")) for n in range(6)]
    taken_by_a = [mid for mid, _ in a.unindexed(limit=3)]
    taken_by_b = [mid for mid, _ in b.unindexed(limit=10)]
    assert taken_by_a == ids[:3]
    assert taken_by_b == ids[3:]
    assert a.unindexed(limit=10) == []


def test_messages_a_lost_node_took_are_indexed_by_another_once_its_claim_runs_out(
    open_node, url: str
) -> None:
    a, b = open_node(), open_node()
    ids = [a.add_message(_new(f"m{n}")) for n in range(2)]
    assert [mid for mid, _ in a.unindexed()] == ids
    assert b.unindexed() == []
    with psycopg.connect(url, autocommit=True) as conn:  # the claim runs out
        conn.execute("UPDATE messages SET index_claimed_until = now() - interval '1 second'")
    assert [mid for mid, _ in b.unindexed()] == ids


def test_a_message_committed_on_one_node_wakes_the_other_nodes_feed(open_node) -> None:
    a, b = open_node(), open_node()
    seen = _changes(b)
    message_id = a.add_message(_new("from a"))
    until(lambda: any(c.kind == "message" for c in seen))
    assert [(c.kind, c.ids, c.remote) for c in seen if c.kind == "message"] == [
        ("message", (message_id,), True)
    ]


def test_a_deletion_on_one_node_reaches_the_other_as_a_remote_change(open_node) -> None:
    a, b = open_node(), open_node()
    first, second = a.add_message(_new("one")), a.add_message(_new("two"))
    seen = _changes(b)
    a.delete_messages([second])
    until(lambda: any(c.kind == "deleted" for c in seen))
    assert [(c.ids, c.remote) for c in seen if c.kind == "deleted"] == [((second,), True)]
    assert b.get_message(first) is not None


def test_a_node_that_lost_its_listening_connection_catches_up_by_id(
    open_node, url: str
) -> None:
    a, b = open_node(), open_node()
    assert b.shared_feed is not None
    seen = _changes(b)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN %%' AND pid <> pg_backend_pid()"
        )
    missed = [a.add_message(_new(f"while away {n}")) for n in range(3)]
    until(lambda: sorted(i for c in seen if c.kind == "message" for i in c.ids) == missed,
          timeout=30)  # fmt: skip
    assert b.shared_feed.connected.is_set()


def test_a_node_announces_a_message_once_though_both_notification_and_catch_up_find_it(
    open_node,
) -> None:
    a, b = open_node(), open_node()
    seen = _changes(b)
    ids = [a.add_message(_new(f"m{n}")) for n in range(20)]
    until(lambda: sorted(i for c in seen if c.kind == "message" for i in c.ids) == ids)
    done = threading.Event()
    done.wait(2.5)  # two catch-ups run meanwhile; neither announces anything again
    assert sorted(i for c in seen if c.kind == "message" for i in c.ids) == ids


def test_a_starting_node_leaves_open_the_sessions_of_live_nodes(open_node) -> None:
    a = open_node()
    session = a.open_session("127.0.0.1:1", STARTED)
    b = open_node()
    assert b.end_orphaned_sessions() == 0
    record = b.get_session(session)
    assert record is not None and record.end_reason is None


def test_sessions_of_a_node_that_stops_beating_are_ended_as_node_lost(open_node) -> None:
    a = open_node(timeout=1.0)
    session = a.open_session("127.0.0.1:1", STARTED)
    assert a._beat is not None
    a._beat._stop.set()  # frozen: no more beats, but its sessions are still open
    b = open_node(timeout=1.0)
    seen = _changes(b)
    until(lambda: any(c.kind == "session" and session in c.ids for c in seen), timeout=30)
    record = b.get_session(session)
    assert record is not None and record.end_reason == "node-lost"
    assert [p.code for p in record.problems] == ["node-lost"]


def test_sessions_left_open_by_a_previous_release_node_are_ended_at_start(
    open_node, url: str
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:  # the previous release names no node
        conn.execute("INSERT INTO sessions (peer, started_at) VALUES ('127.0.0.1:1', %s)",
                     (STARTED,))  # fmt: skip
    node = open_node()
    assert node.end_orphaned_sessions() == 1
    assert [s.end_reason for s in node.list_sessions()] == ["disconnect"]


def test_a_store_opened_for_a_one_off_job_is_no_node(open_node, url: str) -> None:
    open_node(start=False)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM nodes").fetchone() == (0,)


def test_schema_changes_after_the_first_only_add_so_older_nodes_keep_working() -> None:
    folder = resources.files("mailtrap_lite.store.postgres.schema")
    later = sorted(f for f in folder.iterdir() if re.match(r"\d+_", f.name) and
                   not f.name.startswith("001_"))  # fmt: skip
    assert later, "no schema change after the first"
    for script in later:
        sql = re.sub(r"--[^\n]*", "", script.read_text(encoding="utf-8")).upper()
        for removing in (r"\bDROP\b", r"\bRENAME\b", r"\bALTER\s+COLUMN\b", r"\bTRUNCATE\b",
                         r"\bDELETE\s+FROM\b", r"\bUPDATE\s+\w+\s+SET\b"):  # fmt: skip
            found = re.search(removing, sql)
            assert found is None, f"{script.name} changes what older nodes use: {found}"
        for added in re.findall(r"ADD COLUMN [^,;]*", sql):
            assert "NOT NULL" not in added or "DEFAULT" in added, f"{script.name}: {added}"


def test_one_node_of_several_takes_each_turn_of_pruning_by_age(open_node) -> None:
    a, b = open_node(), open_node()
    now = 1_800_000_000.0
    assert [a.take_turn("max-age", now, 60), b.take_turn("max-age", now + 1, 60),
            a.take_turn("max-age", now + 30, 60)] == [True, False, False]  # fmt: skip
    assert b.take_turn("another task", now + 1, 60)
    assert b.take_turn("max-age", now + 60, 60)  # the round is over: whoever asks first runs it
    assert not a.take_turn("max-age", now + 61, 60)


def test_age_pruning_runs_on_one_node_per_round(open_node) -> None:
    from mailtrap_lite.services.clock import Clock
    from mailtrap_lite.services.retention import AgePruner

    a, b = open_node(), open_node()
    old = [a.add_message(_new(f"old {n}")) for n in range(3)]  # received 2026-01-01
    pruners = [AgePruner(store, 3600.0, Clock()) for store in (a, b)]
    assert pruners[0].prune() == 3
    later = b.add_message(_new("old, arrived after the round"))
    assert pruners[1].prune() == 0  # the round was node a's: node b leaves it
    assert all(a.get_message(i) is None for i in old) and b.get_message(later) is not None
    assert b.stats()["pruned"] == 3

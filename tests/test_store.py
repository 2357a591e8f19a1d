"""The Store on its own: ids, paging, deletion, retention, inboxes, sessions and the feed.

Every test that takes `store` or `backend` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import Delivery, Store
from mailtrap_lite.store.feed import Change
from mailtrap_lite.store.indexer import Indexer
from mailtrap_lite.store.records import NewMessage, TranscriptEntry
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.backends import Backend

pytestmark = pytest.mark.backends


def new_message(n: int = 0, inbox: str = "default", session_id: int | None = None) -> NewMessage:
    raw = f"Subject: message {n}\r\nTo: Someone <to{n}@example.com>\r\n\r\nbody {n}\r\n".encode()
    return NewMessage(
        raw=raw, mail_from=f"from{n}@example.com", rcpt_to=[f"to{n}@example.com"],
        session_id=session_id, inbox=inbox, received_at="2026-11-26T10:00:00.000Z",
        summary=parse_summary(raw),
    )  # fmt: skip


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.store() as opened:
        yield opened


def test_ids_increase_and_are_never_reused_after_clear(store: Store) -> None:
    first = [store.add_message(new_message(n)) for n in range(3)]
    store.clear()
    again = store.add_message(new_message(9))
    assert first == sorted(first) and again > max(first)


def test_message_round_trip_keeps_raw_and_summary(store: Store) -> None:
    message_id = store.add_message(new_message(1))
    record = store.get_message(message_id)
    assert record is not None
    assert record.subject == "message 1"
    assert record.to[0].name == "Someone" and record.to[0].address == "to1@example.com"
    assert store.raw(message_id) == new_message(1).raw
    assert record.size == len(new_message(1).raw)


def test_unknown_ids_give_none(store: Store) -> None:
    assert store.get_message(404) is None
    assert store.raw(404) is None
    assert store.get_session(404) is None


def test_list_is_newest_first_with_total_and_cursor(store: Store) -> None:
    ids = [store.add_message(new_message(n)) for n in range(7)]
    page = store.list_messages(limit=3)
    assert page.total == 7
    assert [m.id for m in page.messages] == ids[::-1][:3]
    following = store.list_messages(limit=3, before=page.messages[-1].id)
    assert [m.id for m in following.messages] == ids[::-1][3:6]


def test_inbox_filter_and_counts(store: Store) -> None:
    for n in range(3):
        store.add_message(new_message(n, inbox="a"))
    read_id = store.add_message(new_message(3, inbox="b"))
    store.add_message(new_message(4, inbox="b"))
    assert store.set_read(read_id, True)
    assert store.list_messages(inbox="a").total == 3
    assert store.inboxes() == [("a", 3, 3), ("b", 2, 1)]


def test_delete_one_and_clear_one_inbox(store: Store) -> None:
    doomed = store.add_message(new_message(1, inbox="a"))
    store.add_message(new_message(2, inbox="a"))
    kept = store.add_message(new_message(3, inbox="b"))
    assert store.delete_messages([doomed, 12345]) == 1
    assert store.raw(doomed) is None
    assert store.clear(inbox="a") == 1
    assert [m.id for m in store.list_messages().messages] == [kept]


def test_retention_keeps_the_newest_and_counts_the_pruned(backend: Backend) -> None:
    with backend.store(max_messages=5) as store:
        ids = [store.add_message(new_message(n)) for n in range(12)]
        page = store.list_messages(limit=100)
        assert [m.id for m in page.messages] == ids[::-1][:5]
        assert page.total == 5 and store.stats()["messages"] == 5
        assert store.stats()["pruned"] == 7
        assert store.raw(ids[0]) is None


def test_retention_in_a_group_commit_never_exceeds_the_limit(backend: Backend) -> None:
    with backend.store(max_messages=3) as store:
        ids = store.add_messages([Delivery(new_message(n)) for n in range(5)])
        assert [m.id for m in store.list_messages().messages] == ids[::-1][:3]
        assert store.stats()["pruned"] == 2


def test_session_retention_keeps_sessions_that_delivered_kept_mail(backend: Backend) -> None:
    with backend.store(max_sessions=2) as store:
        busy = store.open_session("127.0.0.1:1", "2026-11-26T10:00:00.000Z")
        store.add_message(new_message(1, session_id=busy))
        idle = [store.open_session(f"127.0.0.1:{n}", "2026-11-26T10:00:01.000Z")
                for n in range(5)]  # fmt: skip
        kept = {s.id for s in store.list_sessions(limit=100)}
        assert kept == {busy, idle[-1], idle[-2]}
        assert store.stats()["pruned_sessions"] == 3


def test_a_session_emptied_by_deletion_becomes_prunable(backend: Backend) -> None:
    with backend.store(max_sessions=1) as store:
        busy = store.open_session("127.0.0.1:1", "2026-11-26T10:00:00.000Z")
        message_id = store.add_message(new_message(1, session_id=busy))
        store.delete_messages([message_id])
        store.open_session("127.0.0.1:2", "2026-11-26T10:00:01.000Z")
        assert store.get_session(busy) is None


def test_transcript_chunks_come_back_in_order(store: Store) -> None:
    sid = store.open_session("127.0.0.1:5", "2026-11-26T10:00:00.000Z")
    first = [(1e9, "server", "220 hi", False), (1e9 + 0.25, "client", "EHLO x", False)]
    store.add_message(new_message(1, session_id=sid), first, {"helo": "x"})
    tail = [(1e9 + 1, "client", "QUIT", True)]
    store.end_session(sid, "quit", "2026-11-26T10:00:02.000Z", tail)
    record = store.get_session(sid)
    assert record is not None
    assert record.transcript == [
        TranscriptEntry("2001-09-09T01:46:40.000Z", "server", "220 hi", False),
        TranscriptEntry("2001-09-09T01:46:40.250Z", "client", "EHLO x", False),
        TranscriptEntry("2001-09-09T01:46:41.000Z", "client", "QUIT", True),
    ]
    assert record.helo == "x" and record.end_reason == "quit"


def test_temporary_sqlite_store_removes_its_file(tmp_path: Path) -> None:
    store = SQLiteStore(None)
    path = store.path
    store.add_message(new_message(1))
    assert path.exists()
    store.close()
    assert not path.exists()


def test_feed_announces_commits_and_wakes_waiters(store: Store) -> None:
    seen: list[Change] = []
    store.feed.subscribe(seen.append)
    start = store.feed.seq
    woke = threading.Event()

    def waiter() -> None:
        store.feed.wait(start, 5.0)
        woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    message_id = store.add_message(new_message(1))
    thread.join(5)
    assert woke.is_set()
    assert [(c.kind, c.ids) for c in seen] == [("message", (message_id,))]
    assert [c.kind for c in store.feed.since(start) or []] == ["message"]


def test_indexer_fills_snippet_and_attachment_count(store: Store) -> None:
    raw = (
        b"Subject: att\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nHello   there\r\n"
        b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"'
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
    )
    message = new_message(1)
    message.raw, message.summary = raw, parse_summary(raw)
    message_id = store.add_message(message)
    assert Indexer(store).run_once() == 1
    record = store.get_message(message_id)
    assert record is not None and record.indexed
    assert record.snippet == "Hello there" and record.attachment_count == 1
    assert store.stats()["unindexed"] == 0


def test_a_session_keeps_its_kind(store: Store) -> None:
    ids = {kind: store.open_session("peer", "2026-01-01T00:00:00.000Z", kind) for kind in
           ("smtp", "api", "import", "outgoing")}  # fmt: skip
    assert {kind: store.get_session(i).kind for kind, i in ids.items()} == {  # type: ignore[union-attr]
        kind: kind for kind in ids
    }
    with pytest.raises(ValueError, match="unknown session kind"):
        store.open_session("peer", "2026-01-01T00:00:00.000Z", "carrier-pigeon")


def test_orphaned_sessions_are_ended_as_disconnected(store: Store) -> None:
    left_open = store.open_session("peer", "2026-01-01T00:00:00.000Z")
    ended = store.open_session("peer", "2026-01-01T00:00:00.000Z")
    store.end_session(ended, "quit", "2026-01-01T00:00:01.000Z")
    assert store.end_orphaned_sessions() == 1
    assert store.get_session(left_open).end_reason == "disconnect"  # type: ignore[union-attr]
    assert store.get_session(ended).end_reason == "quit"  # type: ignore[union-attr]


def test_an_inbox_with_sessions_but_no_messages_is_listed(store: Store) -> None:
    sid = store.open_session("peer", "2026-01-01T00:00:00.000Z")
    store.end_session(sid, "quit", "2026-01-01T00:00:01.000Z", facts={"inbox": "quiet"})
    assert store.inboxes() == [("quiet", 0, 0)]


def test_a_nul_character_in_a_session_fact_is_stored_without_failing(store: Store) -> None:
    sid = store.open_session("peer", "2026-01-01T00:00:00.000Z")
    store.end_session(sid, "quit", "2026-01-01T00:00:01.000Z", facts={"helo": "a\x00b"})
    # PostgreSQL's text cannot hold NUL: it becomes U+FFFD there (the transcript keeps it)
    assert store.get_session(sid).helo in ("a\x00b", "a\ufffdb")  # type: ignore[union-attr]

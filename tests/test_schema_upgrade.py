"""A database written by an earlier release opens with today's code, every row intact.

tests/data/schema-2.db was written by mailtrap-lite 0.1.0 (schema version 2, the release
before the second wave) through its own Sink: three messages in two inboxes, one read, and
four sessions with their transcripts; schema-2.json records what it held then. Every
schema change from now on ships as a migration, and this test opens a copy of that file:
migration 6 rebuilds the search rows (folded text, file names, reversed addresses).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import index_all

DATA = Path(__file__).resolve().parent / "data"
EXPECTED: dict[str, Any] = json.loads((DATA / "schema-2.json").read_text(encoding="utf-8"))


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[SQLiteStore]:
    copy = tmp_path / "old.db"
    shutil.copyfile(DATA / "schema-2.db", copy)
    store = SQLiteStore(copy)
    yield store
    store.close()


def _schema_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_the_old_file_is_of_the_old_schema() -> None:
    assert _schema_version(DATA / "schema-2.db") == 2


@pytest.mark.parametrize("expected", EXPECTED["messages"], ids=lambda m: f"message-{m['id']}")
def test_every_message_is_intact(upgraded: SQLiteStore, expected: dict[str, Any]) -> None:
    record = upgraded.get_message(expected["id"])
    raw = upgraded.raw(expected["id"])
    assert record is not None and raw is not None
    assert hashlib.sha256(raw).hexdigest() == expected["sha256"]
    kept = {name: getattr(record, name) for name in ("inbox", "subject", "mail_from", "rcpt_to",
                                                     "read", "size", "session_id")}  # fmt: skip
    assert kept == {name: expected[name] for name in kept}


@pytest.mark.parametrize("expected", EXPECTED["sessions"], ids=lambda s: f"session-{s['id']}")
def test_every_session_and_transcript_is_intact(
    upgraded: SQLiteStore, expected: dict[str, Any]
) -> None:
    session = upgraded.get_session(expected["id"])
    assert session is not None and session.transcript is not None
    assert [session.inbox, session.helo, session.auth_user, session.end_reason] == [
        expected["inbox"], expected["helo"], expected["auth_user"], expected["end_reason"]
    ]  # fmt: skip
    assert session.message_ids == expected["message_ids"]
    assert [[e.direction, e.line] for e in session.transcript] == expected["transcript"]


def test_old_messages_read_and_search_as_new_ones(upgraded: SQLiteStore) -> None:
    index_all(upgraded)
    [first] = [m for m in EXPECTED["messages"] if m["attachment_count"]]
    message = upgraded.read_message(first["id"])
    assert message is not None and message.attachment_count == first["attachment_count"]
    assert message.snippet == first["snippet"]
    found = upgraded.list_messages(query=parse_query("subject:team"))
    assert [m.id for m in found.messages] == [m["id"] for m in EXPECTED["messages"]
                                             if "team" in m["subject"]]  # fmt: skip


def test_upgrade_queues_every_old_message_for_new_search_rows(upgraded: SQLiteStore) -> None:
    assert upgraded.stats()["unindexed"] == len(EXPECTED["messages"])
    assert upgraded.list_messages(query=parse_query("subject:team")).total == 0  # until indexed


# Message 1 came from "Jörg <joerg@example.com>" with the subject "Grüße with attachment" and
# the file terms.pdf; messages 2 and 3 are plain. The old index had none of these rules.
SEARCHES = [
    ("jorg", [1]),
    ("subject:GRUSSE", [1]),
    ("filename:terms.pdf", [1]),
    ("terms OR build", [3, 1]),
    ("from:example.com", [3, 2, 1]),
    ("to:*@example.com -(inbox:team OR bcc:hidden@example.com)", [2]),
]


@pytest.mark.parametrize(("query", "expected"), SEARCHES, ids=[q for q, _ in SEARCHES])
def test_old_messages_search_with_the_new_rules_once_indexed_again(
    upgraded: SQLiteStore, query: str, expected: list[int]
) -> None:
    index_all(upgraded)
    assert [m.id for m in upgraded.list_messages(query=parse_query(query)).messages] == expected


def test_ids_go_on_after_the_old_ones(upgraded: SQLiteStore) -> None:
    from tests.apiserver import store_message

    newest = max(m["id"] for m in EXPECTED["messages"])
    assert store_message(upgraded, b"Subject: new\r\n\r\nx\r\n") == newest + 1


def test_old_sessions_are_smtp_sessions(upgraded: SQLiteStore) -> None:
    assert {s.kind for s in upgraded.list_sessions()} == {"smtp"}


def test_an_import_skips_what_the_old_file_holds(upgraded: SQLiteStore) -> None:
    from mailtrap_lite.transfer import Importer, Item, StoreTarget

    old = [m for m in upgraded.export_messages() if m.raw.lower().count(b"message-id:")]
    assert old  # the Message-ID lookup uses the index migration 4 adds
    importer = Importer(StoreTarget(upgraded))
    tally = importer.run("again", [Item(m.raw, f"message {m.id}") for m in old])
    assert (tally.done, tally.skipped) == (0, len(old))
    with sqlite3.connect(upgraded.path) as conn:
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(messages)")}
    assert "messages_message_id" in indexes


def test_old_messages_have_no_tags_and_can_be_tagged(upgraded: SQLiteStore) -> None:
    index_all(upgraded)
    ids = [m["id"] for m in EXPECTED["messages"]]
    assert all(upgraded.get_message(i).tags == [] for i in ids)  # type: ignore[union-attr]
    upgraded.add_tags(ids[:1], ["migrated"])
    found = upgraded.list_messages(query=parse_query("tag:migrated is:tagged"))
    assert [m.id for m in found.messages] == ids[:1]
    assert upgraded.tags() == [("migrated", 1, int(not EXPECTED["messages"][0]["read"]))]


def test_old_messages_have_no_releases_and_can_record_one(upgraded: SQLiteStore) -> None:
    from mailtrap_lite.store.records import ReleaseRecord

    first = EXPECTED["messages"][0]["id"]
    assert upgraded.releases(first) == []
    upgraded.add_release(ReleaseRecord(first, None, "2026-01-01T00:00:00.000Z", ["a@x.test"],
                                       True, "250 ok"))  # fmt: skip
    assert [r.reply for r in upgraded.releases(first)] == ["250 ok"]


def test_old_sessions_that_went_well_have_no_problems(upgraded: SQLiteStore) -> None:
    assert {s.id: s.problems for s in upgraded.list_sessions()} == {
        s["id"]: [] for s in EXPECTED["sessions"]
    }


def test_old_failed_session_gets_its_problems_from_its_transcript(tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    shutil.copyfile(DATA / "schema-2.db", copy)
    entries = [
        [1.7e9, "server", "220 ready", False],
        [1.7e9, "client", "AUTH PLAIN ****", False],
        [1.7e9, "server", "535 5.7.8 Authentication credentials invalid", False],
    ]
    with sqlite3.connect(copy) as conn:  # a failed session as the old release stored it
        cur = conn.execute(
            "INSERT INTO sessions (peer, started_at, ended_at, end_reason)"
            " VALUES ('127.0.0.1:9', '2026-01-01T10:00:00.000Z',"
            " '2026-01-01T10:00:01.000Z', 'disconnect')"
        )
        conn.execute(
            "INSERT INTO transcript_chunks (session_id, seq, entries) VALUES (?, 0, ?)",
            (cur.lastrowid, json.dumps(entries)),
        )
        session_id = int(cur.lastrowid or 0)
    store = SQLiteStore(copy)
    try:
        [listed] = [s for s in store.list_sessions() if s.id == session_id]
    finally:
        store.close()
    assert [(p.code, p.text) for p in listed.problems] == [
        ("auth-failed", "AUTH failed: 535 5.7.8 Authentication credentials invalid"),
        ("disconnected", "the client disconnected without QUIT"),
    ]

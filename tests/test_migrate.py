"""`mailtrap-lite migrate OLD.db postgresql://...`: a SQLite store copied into PostgreSQL.

The source is tests/data/schema-2.db, written by the previous release (test_schema_upgrade.py
says what it holds), and stores filled here; the copy is read back through the PostgreSQL
Store, as a server on it would.
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
from mailtrap_lite.store.records import Problem, ReleaseRecord
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import index_all, store_message
from tests.backends import PostgresBackend
from tests.pgcluster import Cluster
from tests.process import run_cli

DATA = Path(__file__).resolve().parent / "data"
EXPECTED: dict[str, Any] = json.loads((DATA / "schema-2.json").read_text(encoding="utf-8"))


@pytest.fixture
def pg(pg_cluster: Cluster) -> PostgresBackend:
    return PostgresBackend(pg_cluster)


@pytest.fixture
def url(pg: PostgresBackend) -> Iterator[str]:
    with pg.database() as database:
        yield database


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    copy = tmp_path / "old.db"
    shutil.copyfile(DATA / "schema-2.db", copy)
    return copy


def migrate(source: Path, url: str) -> Any:
    return run_cli("migrate", str(source), url, timeout=60)


def test_messages_keep_ids_bytes_flags_and_sessions(pg, url: str, old_db: Path) -> None:
    result = migrate(old_db, url)
    assert result.returncode == 0, result.stderr
    assert "copied 3 messages" in result.stdout
    store = pg.open(url)
    try:
        for expected in EXPECTED["messages"]:
            record, raw = store.get_message(expected["id"]), store.raw(expected["id"])
            assert record is not None and raw is not None
            assert hashlib.sha256(raw).hexdigest() == expected["sha256"]
            kept = {name: getattr(record, name) for name in ("inbox", "subject", "read",
                                                             "session_id", "snippet")}  # fmt: skip
            assert kept == {name: expected[name] for name in kept}
    finally:
        store.close()


def test_sessions_keep_their_transcripts(pg, url: str, old_db: Path) -> None:
    assert migrate(old_db, url).returncode == 0
    store = pg.open(url)
    try:
        for expected in EXPECTED["sessions"]:
            session = store.get_session(expected["id"])
            assert session is not None and session.transcript is not None
            assert [session.inbox, session.auth_user, session.end_reason] == [
                expected["inbox"], expected["auth_user"], expected["end_reason"]]  # fmt: skip
            assert session.message_ids == expected["message_ids"]
            assert [[e.direction, e.line] for e in session.transcript] == expected["transcript"]
    finally:
        store.close()


def test_copied_messages_become_searchable_and_ids_go_on(pg, url: str, tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "mail.db")
    kept = store_message(source, b"Subject: kept invoice\r\n\r\nbody\r\n")
    gone = store_message(source, b"Subject: deleted\r\n\r\nbody\r\n")
    source.delete_messages([gone])
    source.close()
    assert migrate(tmp_path / "mail.db", url).returncode == 0
    store = pg.open(url)
    try:
        index_all(store)
        assert [m.id for m in store.list_messages(query=parse_query("invoice")).messages] == [
            kept
        ]
        assert store.stats()["messages"] == 1
        assert store_message(store, b"Subject: new\r\n\r\nx\r\n") == gone + 1  # never reused
    finally:
        store.close()


def test_tags_releases_and_session_problems_are_copied(pg, url: str, tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "mail.db")
    first = store_message(source, b"Subject: one\r\n\r\nx\r\n")
    second = store_message(source, b"Subject: two\r\n\r\nx\r\n")
    source.add_tags([first, second], ["Billing", "urgent"])
    source.add_release(ReleaseRecord(first, None, "2024-05-10T12:01:00.000Z", ["a@b.test"],
                                     True, "250 2.0.0 queued"))  # fmt: skip
    session = source.open_session("127.0.0.1:5000", "2024-05-10T12:00:00.000Z")
    source.end_session(session, "quit", "2024-05-10T12:00:01.000Z",
                       problems=[Problem("auth-failed", "AUTH was refused")])  # fmt: skip
    source.close()
    result = migrate(tmp_path / "mail.db", url)
    assert result.returncode == 0, result.stderr
    assert "2 tags and 1 releases" in result.stdout
    store = pg.open(url)
    try:
        assert store.tags() == [("Billing", 2, 2), ("urgent", 2, 2)]
        record = store.get_message(second)
        assert record is not None and record.tags == ["Billing", "urgent"]
        assert [m.id for m in store.list_messages(query=parse_query("tag:billing")).messages] == [
            second, first]  # fmt: skip
        assert store.releases(first) == [ReleaseRecord(
            first, None, "2024-05-10T12:01:00.000Z", ["a@b.test"], True, "250 2.0.0 queued")]
        copied = store.get_session(session, transcript=False)
        assert copied is not None
        assert copied.problems == [Problem("auth-failed", "AUTH was refused")]
        store.add_tags([first], ["new"])  # tag ids go on after the copied ones
        assert [name for name, _, _ in store.tags()] == ["Billing", "new", "urgent"]
    finally:
        store.close()


def test_a_target_that_holds_mail_is_refused(pg, url: str, old_db: Path) -> None:
    store = pg.open(url)
    store_message(store, b"Subject: already here\r\n\r\nx\r\n")
    store.close()
    result = migrate(old_db, url)
    assert result.returncode == 2
    assert "already holds messages" in result.stderr and "Traceback" not in result.stderr


def test_a_table_the_target_has_no_place_for_is_named(pg, url: str, old_db: Path) -> None:
    with sqlite3.connect(old_db) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.close()
    result = migrate(old_db, url)
    assert result.returncode == 0, result.stderr
    assert "not copied: table notes" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["old.db", "mysql://u@h/db"], "mysql:// is not a database"),
        (["old.db", "/tmp/new.db"], "the target must be a postgresql:// URL"),
        (["old.db"], "the following arguments are required: URL"),
    ],
)
def test_bad_arguments_are_one_line_errors_with_status_2(args: list[str], message: str) -> None:
    result = run_cli("migrate", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_source_is_a_clear_error(url: str, tmp_path: Path) -> None:
    result = migrate(tmp_path / "nothing.db", url)
    assert result.returncode == 2
    assert "no such file" in result.stderr

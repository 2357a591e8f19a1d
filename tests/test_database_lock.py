"""One server per database: a second fails at start naming --url, before touching anything."""

from __future__ import annotations

import signal
import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.store import StorageError
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.store.sqlite.lock import DatabaseLock, DatabaseLocked, lock_path
from mailtrap_lite.testing import Sink
from tests.apiserver import make_message
from tests.process import ServerProcess, run_cli
from tests.wire import greet

Launch = Callable[..., ServerProcess]


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], SQLiteStore]]:
    """Open databases read-only, closed after the test."""
    opened: list[SQLiteStore] = []

    def open_store(db: Path) -> SQLiteStore:
        opened.append(SQLiteStore(db, read_only=True))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


def serve(launch: Launch, db: Path, *args: str) -> ServerProcess:
    return launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", str(db), *args)


def test_a_second_server_fails_naming_url_and_leaves_the_first_alone(
    launch: Launch, tmp_path: Path, read_only: Callable[[Path], SQLiteStore]
) -> None:
    db = tmp_path / "mail.db"
    first = serve(launch, db)
    with greet(*first.smtp) as open_session:  # a live session of the first server
        result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db))
        assert result.returncode == 2
        assert f"is in use by another mailtrap-lite (pid {first.proc.pid})" in result.stderr
        assert f"--url {first.info['http']}" in result.stderr
        assert "Traceback" not in result.stderr
        assert open_session.cmd("NOOP").code == 250
        [session] = read_only(db).list_sessions()
        assert session.end_reason is None  # not ended as an orphan by the second
    with smtplib.SMTP(*first.smtp, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], make_message().as_bytes())
    assert first.stop()[0] == 0


def test_a_second_server_on_the_same_port_also_fails_at_the_lock(
    launch: Launch, tmp_path: Path
) -> None:
    db = tmp_path / "mail.db"
    first = serve(launch, db)
    host, port = first.smtp
    result = run_cli("--smtp", f"{host}:{port}", "--http", "off", "--db", str(db))
    assert result.returncode == 2
    assert "is in use by another mailtrap-lite" in result.stderr  # not "address in use"


def test_the_lock_goes_with_a_killed_server(launch: Launch, tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    serve(launch, db).stop(signal.SIGKILL)
    assert lock_path(db).exists()  # left behind, and harmless
    assert serve(launch, db).stop()[0] == 0


def test_in_process_sinks_on_one_database_exclude_each_other(tmp_path: Path) -> None:
    config = Config(smtp=Address("127.0.0.1", 0))
    with Sink(config, db=tmp_path / "mail.db"):
        with pytest.raises(DatabaseLocked):
            Sink(config, db=tmp_path / "mail.db").start()
    with Sink(config, db=tmp_path / "mail.db"):  # released at stop
        pass


def test_the_lock_is_taken_once_and_released(tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    with DatabaseLock.acquire(db) as held:
        held.announce("http://127.0.0.1:8025")
        with pytest.raises(DatabaseLocked, match=r"--url http://127\.0\.0\.1:8025"):
            DatabaseLock.acquire(db)
    DatabaseLock.acquire(db).release()


def test_a_served_database_can_be_read_read_only(
    launch: Launch, tmp_path: Path, read_only: Callable[[Path], SQLiteStore]
) -> None:
    db = tmp_path / "mail.db"
    server = serve(launch, db)
    with smtplib.SMTP(*server.smtp, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], make_message("kept").as_bytes())
    store = read_only(db)
    [message] = store.list_messages().messages
    assert message.subject == "kept"
    with pytest.raises(StorageError, match="read-only"):
        store.set_read(message.id, True)
    assert server.stop()[0] == 0


def test_import_into_a_served_database_fails_naming_url(launch: Launch, tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    server = serve(launch, db)
    eml = tmp_path / "one.eml"
    eml.write_bytes(make_message("imported").as_bytes())
    result = run_cli("import", str(eml), "--db", str(db), "--quiet")
    assert result.returncode == 2
    assert f"is in use by another mailtrap-lite (pid {server.proc.pid})" in result.stderr
    assert f"--url {server.info['http']}" in result.stderr
    assert "Traceback" not in result.stderr
    assert server.stop()[0] == 0
    assert run_cli("import", str(eml), "--db", str(db), "--quiet").returncode == 0  # now free


def test_export_reads_a_served_database_read_only(launch: Launch, tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    server = serve(launch, db)
    with smtplib.SMTP(*server.smtp, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], make_message("kept").as_bytes())
    out = tmp_path / "all.mbox"
    result = run_cli("export", str(out), "--db", str(db), "--quiet")
    assert result.returncode == 0, result.stderr
    assert b"Subject: kept" in out.read_bytes()
    with smtplib.SMTP(*server.smtp, timeout=10) as client:  # the server serves on
        client.sendmail("a@example.com", ["b@example.com"], make_message("later").as_bytes())
    assert server.stop()[0] == 0

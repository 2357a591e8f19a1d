"""The database file: deleted or replaced under the server (451, 503, exit 1), corrupt at start."""

from __future__ import annotations

import http.client
import shutil
import smtplib
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.apiserver import make_message, store_message
from tests.process import ServerProcess, run_cli

Launch = Callable[..., ServerProcess]
PAGE = 4096  # SQLite's default page size


@pytest.fixture
def served_file(tmp_path: Path) -> Iterator[Sink]:
    """A sink with its web server on a database file of its own."""
    sink = Sink(Config(smtp=Address("127.0.0.1", 0)), db=tmp_path / "mail.db",
                http=Address("127.0.0.1", 0)).start()  # fmt: skip
    yield sink
    sink.stop()


def deliver(sink: Sink) -> tuple[int, bytes]:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.ehlo()
        client.mail("app@example.com")
        client.rcpt("user@example.com")
        return client.data(make_message("after").as_bytes())


def get(sink: Sink, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(sink.web_url.removeprefix("http://"), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def replace_file(db: Path) -> None:
    copy = db.with_name("copy.db")
    shutil.copyfile(db, copy)
    copy.replace(db)


@pytest.mark.parametrize(("change", "said"), [(Path.unlink, b"deleted"),
                                              (replace_file, b"replaced")])  # fmt: skip
def test_a_vanished_database_gets_451_and_503(served_file: Sink, change, said: bytes) -> None:
    assert deliver(served_file)[0] == statuscodes.OK
    change(served_file.config.db)
    code, _ = deliver(served_file)
    assert code == statuscodes.LOCAL_ERROR  # never a 250 for mail that would be lost
    for path in ("/api/v1/messages", "/api/v1/health", "/"):
        status, body = get(served_file, path)
        assert status == 503, path
        assert said in body


def test_the_server_stops_with_a_clear_message_when_its_file_goes(
    launch: Launch, tmp_path: Path
) -> None:
    db = tmp_path / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db))
    db.unlink()
    status, stderr = server.exited(timeout=30)
    assert status == 1
    assert f"mailtrap-lite: database file {db} was deleted while the server ran" in stderr
    assert "Traceback" not in stderr


def filled_database(path: Path, count: int = 200) -> Path:
    """Write `count` messages of about 8 KB into a database file and close it."""
    store = SQLiteStore(path)
    body = ("y" * 76 + "\r\n") * 100
    for n in range(count):
        store_message(store, f"Subject: m{n}\r\n\r\n{body}".encode())
    store.close()
    return path


def break_a_page(path: Path) -> None:
    """Overwrite a page of message bodies: its link to the next page points nowhere."""
    pages = path.stat().st_size // PAGE
    with path.open("r+b") as file:
        file.seek(int(pages * 0.6) * PAGE)
        file.write(b"\xff" * PAGE)


def break_an_index(path: Path) -> None:
    """Change messages while their session index is detached: it no longer agrees with them."""
    steps = [("transcript_chunks", None), ("messages", "UPDATE messages SET session_id = 99")]
    for table, change in steps:
        conn = sqlite3.connect(path, isolation_level=None)
        if change is not None:
            conn.execute(change)
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET tbl_name = ?, sql = ? WHERE name = 'messages_session'",
            (table, f"CREATE INDEX messages_session ON {table} (session_id)"),
        )
        conn.close()


def start(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db), *args)


def test_a_database_damaged_in_its_pages_is_refused_at_start(tmp_path: Path) -> None:
    db = filled_database(tmp_path / "mail.db")
    break_a_page(db)
    result = start(db)
    assert result.returncode == 2
    # SQLite names the damaged page, or says "database disk image is malformed" where the
    # damage stops its check (a broken overflow page, as here with the current schema)
    assert f"mailtrap-lite: database {db} is corrupt (quick_check: " in result.stderr
    assert "restore it from a backup" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_db_finds_an_index_that_disagrees_with_its_table(
    tmp_path: Path, launch: Launch
) -> None:
    db = filled_database(tmp_path / "mail.db", count=3)
    break_an_index(db)
    result = start(db, "--check-db")
    assert result.returncode == 2
    assert "is corrupt (integrity_check: row 1 missing from index messages_session" in result.stderr
    # the quick check at every start reads every page but does not compare indexes
    assert launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db)).stop()[0] == 0

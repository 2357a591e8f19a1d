"""The database file under a running server: deleted or replaced means 451, 503 and an exit."""

from __future__ import annotations

import http.client
import shutil
import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.apiserver import make_message
from tests.process import ServerProcess

Launch = Callable[..., ServerProcess]


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

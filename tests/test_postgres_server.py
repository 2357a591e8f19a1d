"""`mailtrap-lite --db postgresql://...`: choosing the store, and PostgreSQL going away.

While PostgreSQL is unreachable or restarting, new mail gets `451 4.3.0` and the API 503;
nothing acknowledged is lost, and once it is back mail flows again without a restart. These
tests stop and start a cluster of their own (the worker's shared one stays up).
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import smtplib
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from mailtrap_lite.store.postgres import PostgresStore
from tests import statuscodes
from tests.apiserver import until
from tests.pgcluster import Cluster, ClusterUnavailable, start_cluster
from tests.process import ServerProcess, run_cli
from tests.test_durability import Sender

Launch = Callable[..., ServerProcess]
QUEUED = re.compile(rb"queued as (\d+)")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of this test's own, so that it can be stopped and started."""
    try:
        started = start_cluster()
    except ClusterUnavailable as error:
        pytest.skip(f"PostgreSQL unavailable: {error}")
    try:
        yield started
    finally:
        started.remove()


@pytest.fixture
def own_url(cluster: Cluster) -> str:
    """An empty database (the server applies the schema) on the test's own cluster."""
    cluster.sql('CREATE DATABASE "mail"')
    return cluster.url("mail")


@pytest.fixture
def url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database of the worker's cluster (which stays up)."""
    database = pg_cluster.new_database()
    yield database
    pg_cluster.drop_database(database)


def _serve(launch: Launch, url: str, *extra: str) -> ServerProcess:
    return launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", url, *extra)


def _send(server: ServerProcess, subject: str) -> tuple[int, bytes]:
    """Send one message on a new session; return the reply to its data."""
    data = f"Subject: {subject}\r\n\r\nbody of {subject}\r\n".encode()
    with smtplib.SMTP(*server.smtp, timeout=30) as client:
        client.ehlo()
        client.mail("s@example.com")
        client.rcpt("r@example.com")
        return client.data(data)


def _get(server: ServerProcess, path: str) -> tuple[int, dict[str, object]]:
    parts = urlsplit(server.info["http"])
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _stored_subjects(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT subject FROM messages ORDER BY id")]


def test_db_url_selects_the_postgres_store_and_hides_its_password(
    launch: Launch, url: str
) -> None:
    with_password = url.replace("postgres@", "postgres:secret@")  # trust: any password works
    server = _serve(launch, with_password)
    assert server.info["db"] == url.replace("postgres@", "postgres:***@")
    code, reply = _send(server, "into postgres")
    assert code == statuscodes.OK, reply
    assert _stored_subjects(url) == ["into postgres"]
    code, err = server.stop()
    assert code == 0, err


def test_db_url_is_read_from_the_environment(launch: Launch, url: str) -> None:
    env = {"MAILTRAP_LITE_DB": url}
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", env=env)
    assert server.info["db"] == url
    server.stop()


@pytest.mark.parametrize("value", ["mysql://u@h/db", "sqlite:///tmp/x.db", "https://example.com/db"])
def test_a_url_of_another_scheme_is_an_error_not_a_file_name(value: str, tmp_path) -> None:
    result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", value)
    assert result.returncode == 2
    assert result.stderr.startswith("mailtrap-lite: error: --db: ")
    assert "postgresql://" in result.stderr and "Traceback" not in result.stderr


def test_a_url_of_another_scheme_in_the_environment_names_the_variable() -> None:
    result = run_cli("--http", "off", env={"MAILTRAP_LITE_DB": "redis://localhost/0"})
    assert result.returncode == 2
    assert "MAILTRAP_LITE_DB: redis:// is not a database" in result.stderr


def test_an_unreachable_database_at_start_is_a_clear_error(cluster: Cluster) -> None:
    url = cluster.url("mail")
    cluster.stop()
    result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", url, timeout=60)
    assert result.returncode == 2
    assert "cannot use database" in result.stderr and "Traceback" not in result.stderr


def test_database_down_gives_451_and_503_then_mail_flows_again_without_restart(
    launch: Launch, cluster: Cluster, own_url: str
) -> None:
    url = own_url
    server = _serve(launch, url)
    assert _send(server, "before")[0] == statuscodes.OK
    cluster.stop()
    code, reply = _send(server, "while down")
    assert (code, reply[:5]) == (statuscodes.LOCAL_ERROR, b"4.3.0")
    status, body = _get(server, "/api/v1/messages")
    assert status == 503 and "storage unavailable" in str(body["error"])
    assert _get(server, "/api/v1/health")[0] == 503
    cluster.start()
    until(lambda: _send(server, "after")[0] == statuscodes.OK, timeout=60)
    assert _get(server, "/api/v1/messages")[0] == 200
    code, err = server.stop()
    assert code == 0, err
    subjects = _stored_subjects(url)
    assert subjects[0] == "before" and "while down" not in subjects and "after" in subjects


def test_a_restart_during_a_burst_loses_nothing_acknowledged(
    launch: Launch, cluster: Cluster, own_url: str
) -> None:
    url = own_url
    server = _serve(launch, url)
    acknowledged: dict[int, bytes] = {}
    refused = 0
    stop = threading.Event()

    def burst() -> None:
        nonlocal refused
        with smtplib.SMTP(*server.smtp, timeout=30) as client:
            client.ehlo()
            for n in range(100_000):
                if stop.is_set():
                    return
                data = f"Subject: burst {n}\r\n\r\n{'x' * (n % 500)}\r\n".encode()
                client.mail("s@example.com")
                client.rcpt("r@example.com")
                code, reply = client.data(data)
                if code == statuscodes.OK:
                    acknowledged[int(QUEUED.search(reply).group(1))] = data  # type: ignore[union-attr]
                else:
                    assert (code, reply[:5]) == (statuscodes.LOCAL_ERROR, b"4.3.0"), reply
                    refused += 1
                    stop.wait(0.1)  # as a client retrying later would (and the log stays short)

    sender = threading.Thread(target=burst, daemon=True)
    sender.start()
    until(lambda: len(acknowledged) >= 50, timeout=60)
    cluster.stop()
    cluster.start()
    before = len(acknowledged)
    until(lambda: len(acknowledged) >= before + 50, timeout=60)
    stop.set()
    sender.join(60)
    server.stop()
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute("SELECT id, data FROM message_raw").fetchall())
    assert {i: bytes(stored[i]) for i in acknowledged if i in stored} == acknowledged


def test_acknowledged_messages_survive_kill_9_of_the_server(
    launch: Launch, url: str, tmp_path
) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", url, "--max-messages", "0",
                    "--node-timeout", "1")  # fmt: skip
    senders = [Sender(*server.smtp, name=f"t{n}") for n in range(4)]
    for sender in senders:
        sender.start()
    until(lambda: sum(len(s.acked) for s in senders) >= 300, timeout=60)
    server.proc.send_signal(signal.SIGKILL)
    server.stop()
    for sender in senders:
        sender.join(15)
    acked = {mid: data for s in senders for mid, data in s.acked.items()}
    store = PostgresStore(url, files=tmp_path)
    try:
        assert [mid for mid, data in acked.items() if store.raw(mid) != data] == []
        # The killed server's sessions never ended; once its node has expired they are.
        until(lambda: store.end_orphaned_sessions() >= 1, timeout=30)
        assert {s.end_reason for s in store.list_sessions(limit=100)} == {"node-lost"}
    finally:
        store.close()

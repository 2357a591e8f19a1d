"""Descriptors under hostile traffic: probes free their place, the web server outlives 1,024.

Each test runs the real command line (uvloop by default, as users run it) and looks at the
server's sockets through /proc.
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import smtplib
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.apiserver import until
from tests.process import CLOSE_WAIT, ServerProcess, socket_states

Launch = Callable[..., ServerProcess]
PROBES = 3600  # connect-then-close, as a TCP health check or `nc -z` does
HELD = 1100  # SMTP connections held open: the server's descriptors pass select()'s 1,024
MESSAGE = b"Subject: still served\r\n\r\nbody\r\n"
# Runs the command line with waitress's select() loop, as it was before poll() was chosen.
SELECT_LAUNCHER = (
    "import sys; import mailtrap_lite.web.serve as web; web.USE_POLL = False;"
    " from mailtrap_lite.cli import main; sys.exit(main())"
)


def serve(launch: Launch, tmp_path: Path, *args: str, **kwargs: object) -> ServerProcess:
    db = str(tmp_path / "mail.db")
    return launch("--smtp", "127.0.0.1:0", "--db", db, *args, **kwargs)


def deliver(host: str, port: int) -> None:
    with smtplib.SMTP(host, port, timeout=30) as client:
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connect_close_probes_leave_no_socket_behind(
    launch: Launch, tmp_path: Path, loop: str
) -> None:
    server = serve(launch, tmp_path, "--http", "off", "--loop", loop, "--max-connections", "100")
    host, port = server.smtp
    for _ in range(PROBES):
        socket.create_connection((host, port), timeout=30).close()
    with socket.create_connection((host, port), timeout=30) as last:
        assert last.recv(512)  # a greeting or a refusal: every probe before it was accepted
    until(lambda: CLOSE_WAIT not in socket_states(server.proc.pid), timeout=60)
    until(lambda: delivered(host, port), timeout=30)  # their places under the limit are free


def delivered(host: str, port: int) -> bool:
    """Deliver one message; False when refused for too many connections (421 at connect)."""
    try:
        deliver(host, port)
    except smtplib.SMTPConnectError as refused:
        if refused.smtp_code != 421:
            raise
        return False
    return True


@pytest.fixture
def descriptors() -> Iterator[None]:
    """Let this process and the servers it starts open a few thousand descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * HELD + 500
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextlib.contextmanager
def held_connections(host: str, port: int, count: int) -> Iterator[list[socket.socket]]:
    """Open `count` SMTP connections, each greeted, and close them all afterwards."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = socket.create_connection((host, port), timeout=30)
            held.append(connection)
            assert connection.recv(512).startswith(b"220 ")
        yield held
    finally:
        for connection in held:
            connection.close()


def health(server: ServerProcess) -> int:
    url = server.info["http"].removeprefix("http://")
    connection = http.client.HTTPConnection(url, timeout=30)
    try:
        connection.request("GET", "/api/v1/health")
        return connection.getresponse().status
    finally:
        connection.close()


def highest_descriptor(pid: int) -> int:
    return max(int(fd.name) for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.name.isdigit())


def test_web_server_answers_with_a_thousand_smtp_connections_open(
    launch: Launch, tmp_path: Path, descriptors: None
) -> None:
    server = serve(launch, tmp_path, "--http", "127.0.0.1:0", "--max-connections", "0")
    with held_connections(*server.smtp, HELD):
        assert highest_descriptor(server.proc.pid) >= 1024
        assert health(server) == 200
        assert health(server) == 200  # the web server is still there for the next one
    deliver(*server.smtp)


def test_server_exits_non_zero_when_its_web_server_dies(
    launch: Launch, tmp_path: Path, descriptors: None
) -> None:
    server = serve(launch, tmp_path, "--http", "127.0.0.1:0", "--max-connections", "0",
                   command=[sys.executable, "-c", SELECT_LAUNCHER])  # fmt: skip
    with held_connections(*server.smtp, HELD):
        with contextlib.suppress(OSError, http.client.HTTPException):
            health(server)  # its socket is past 1,023: select() fails and the web thread ends
        status, stderr = server.exited(timeout=30)
    assert status == 1
    assert "mailtrap-lite: the web server stopped: ValueError(" in stderr

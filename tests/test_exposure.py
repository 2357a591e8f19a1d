"""What a stranger can reach and make the server do (SECURITY.md): loopback by default, and
no outbound connection to anything a message points to."""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.testing import Sink
from tests.process import ServerProcess

Launch = Callable[..., ServerProcess]


def test_default_listeners_are_loopback_only(monkeypatch: object) -> None:
    for name in [n for n in os.environ if n.startswith("MAILTRAP_LITE_")]:
        monkeypatch.delenv(name)  # type: ignore[attr-defined]
    config = config_from_args(build_parser().parse_args([]))
    assert config.http is not None
    for address in (config.smtp, config.http):
        assert all(ipaddress.ip_address(host).is_loopback for host in address.hosts())


def _listening(pid: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Return the local addresses of the TCP sockets process `pid` listens on."""
    inodes = {os.readlink(fd)[8:-1] for fd in Path(f"/proc/{pid}/fd").iterdir()
              if os.readlink(fd).startswith("socket:[")}  # fmt: skip
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                raw = bytes.fromhex(cols[1].partition(":")[0])
                step = -1 if sys.byteorder == "little" else 1  # each 32-bit word in host order
                found.append(ipaddress.ip_address(
                    b"".join(raw[i : i + 4][::step] for i in range(0, len(raw), 4))))  # fmt: skip
    return found


def test_started_server_listens_on_loopback_only(tmp_path: Path, launch: Launch) -> None:
    server = launch("--smtp", "localhost:0", "--http", "localhost:0",
                    "--db", str(tmp_path / "m.db"))  # fmt: skip
    addresses = _listening(server.proc.pid)
    assert addresses and all(address.is_loopback for address in addresses), addresses


class Bait(threading.Thread):
    """A TCP listener on 127.0.0.1 that counts the connections it gets."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(5)
        self.sock.close()


def test_server_never_fetches_what_a_message_points_to(sink: Sink) -> None:
    bait = Bait()
    bait.start()
    url = f"http://127.0.0.1:{bait.port}"
    html = (f'<img src="{url}/pixel.png"><link rel="stylesheet" href="{url}/s.css">'
            f'<iframe src="{url}/frame"></iframe><a href="{url}/click">click</a>')  # fmt: skip
    raw = (
        "Subject: remote content\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: text/html\r\n\r\n{html}\r\n"
        f'--b\r\nContent-Type: message/external-body; access-type=URL; URL="{url}/x"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\nsee {url}/text\r\n--b--\r\n"
    ).encode()
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], raw)
    [message] = sink.wait_for(where=lambda m: m.record.indexed, timeout=10)
    time.sleep(0.5)  # anything fetched in the background would have connected by now
    bait.stop()
    assert message.record.indexed and bait.connections == 0

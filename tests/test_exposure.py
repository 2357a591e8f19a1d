"""What a stranger can reach and make the server do (SECURITY.md): loopback by default, and
no outbound connection to anything a message points to."""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.testing import Sink
from tests.apiserver import Served, make_message
from tests.checkmail import crlf
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


def test_deliverability_checks_never_fetch_what_a_message_points_to(served: Served) -> None:
    bait = Bait()
    bait.start()
    url = f"http://127.0.0.1:{bait.port}"
    message = make_message("links", f"see {url}/text")
    message.add_alternative(f'<img src="{url}/pixel.png" alt="x"><a href="{url}/click">'
                            f"127.0.0.1:{bait.port}</a>", subtype="html")  # fmt: skip
    served.send(crlf(message))
    message_id = served.get("/api/v1/messages").json()["messages"][0]["id"]
    report = served.get(f"/api/v1/messages/{message_id}/checks").json()
    assert served.get(f"/messages/{message_id}").status == 200  # the Checks tab
    time.sleep(0.5)  # anything fetched in the background would have connected by now
    bait.stop()
    [links] = [c for c in report["checks"] if c["id"] == "content.ip-links"]
    assert f"{url}/click" in links["detail"]  # the links were looked at, as written
    assert bait.connections == 0


CHECK_OFFLINE = """
import sys
from tests.checkmail import clean_message, crlf, sign
from mailtrap_lite.checks import Checker

raw = sign(crlf(clean_message()))  # signed; the key is not given, so it is looked up
events = []
sys.addaudithook(lambda event, args: event.startswith("socket.") and events.append(event))
report = Checker().check_file(raw)
assert any(c.id == "authentication.dkim" and c.status == "info" for c in report.checks)
print(sorted(set(events)))
"""


def test_checking_a_signed_message_asks_no_dns_and_opens_no_socket() -> None:
    found = subprocess.run([sys.executable, "-c", CHECK_OFFLINE], capture_output=True, text=True,
                           timeout=60, check=True, cwd=Path(__file__).parent.parent)  # fmt: skip
    assert found.stdout.strip() == "[]"

"""A 250 reply means committed: mail survives kill -9, and storage failures answer 451."""

from __future__ import annotations

import re
import resource
import signal
import smtplib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from mailtrap_lite.store.sqlite import SQLiteStore
from tests.process import ServerProcess

Launch = Callable[..., ServerProcess]

QUEUED = re.compile(rb"queued as (\d+)")


class Sender(threading.Thread):
    """Sends numbered messages until the server goes away; remembers what was acknowledged."""

    def __init__(self, host: str, port: int, name: str) -> None:
        super().__init__(daemon=True)
        self.address, self.label = (host, port), name
        self.acked: dict[int, bytes] = {}

    def run(self) -> None:
        try:
            with smtplib.SMTP(*self.address, timeout=10) as client:
                for n in range(100_000):
                    data = f"Subject: {self.label}-{n}\r\n\r\n{'x' * (n % 500)}\r\n".encode()
                    client.ehlo_or_helo_if_needed()
                    client.mail("s@example.com")
                    client.rcpt("r@example.com")
                    code, reply = client.data(data)
                    if code == 250:
                        self.acked[int(QUEUED.search(reply).group(1))] = data  # type: ignore[union-attr]
        except (OSError, smtplib.SMTPException):
            return  # the server was killed: what was acknowledged before counts


def test_acknowledged_messages_survive_kill_9(tmp_path: Path, launch: Launch) -> None:
    db = tmp_path / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db),
                          "--max-messages", "0")  # fmt: skip
    senders = [Sender(*server.smtp, name=f"t{n}") for n in range(4)]
    for sender in senders:
        sender.start()
    _wait_until(lambda: sum(len(s.acked) for s in senders) >= 300, timeout=60)
    server.proc.send_signal(signal.SIGKILL)
    server.stop()
    for sender in senders:
        sender.join(15)
    acked = {mid: data for s in senders for mid, data in s.acked.items()}
    assert len(acked) >= 300
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    store = SQLiteStore(db)
    missing = [mid for mid, data in acked.items() if store.raw(mid) != data]
    assert store.end_orphaned_sessions() >= 1  # the killed server's sessions never ended
    assert all(s.end_reason == "disconnect" for s in store.list_sessions(limit=100))
    store.close()
    assert missing == []


def _wait_until(condition: object, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _limit_file_size() -> None:
    """Let this process write no file past 1.5 MB: a full disk, as SQLite sees it."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))


def test_full_disk_answers_451_and_never_a_false_250(tmp_path: Path, launch: Launch) -> None:
    db = tmp_path / "full.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db),
                    "--max-messages", "0", preexec_fn=_limit_file_size)  # fmt: skip
    acked: dict[int, bytes] = {}
    refused = 0
    with smtplib.SMTP(*server.smtp, timeout=10) as client:
        client.ehlo()
        for n in range(60):
            data = f"Subject: big {n}\r\n\r\n".encode() + b"y" * 100_000 + b"\r\n"
            client.mail("s@example.com")
            client.rcpt("r@example.com")
            code, reply = client.data(data)
            if code == 250:
                acked[int(QUEUED.search(reply).group(1))] = data  # type: ignore[union-attr]
            else:
                assert code == 451 and reply.startswith(b"4.3.0"), (code, reply)
                refused += 1
        assert client.noop()[0] == 250  # still serving
    code, err = server.stop()
    assert code == 0, err
    assert refused > 0 and acked
    store = SQLiteStore(db)
    assert all(store.raw(mid) == data for mid, data in acked.items())
    assert store.stats()["messages"] == len(acked)
    store.close()

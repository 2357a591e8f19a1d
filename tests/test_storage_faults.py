"""Storage faults: a full or read-only filesystem answers 451, and the server recovers alone.

A real small filesystem: a 4 MiB tmpfs mounted for the test (this needs root, as in CI; the
test is skipped with the reason where mounting is not allowed). A ballast file takes part of
the space, mail fills the rest until the server answers 451; deleting the ballast must make
the next message get 250 again, without a restart. (A read-only remount cannot be tested the
same way: Linux refuses it with EBUSY while the database is open for writing.) Also: kill -9
under 200 concurrent sessions, then a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import smtplib
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiosmtplib
import pytest

from tests import statuscodes
from tests.process import ServerProcess

Launch = Callable[..., ServerProcess]

QUEUED = re.compile(r"queued as (\d+)")
FS_SIZE = "4m"
BALLAST = 1_500_000
MESSAGE_BODY = 100_000
SESSIONS = 200


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """Mount a 4 MiB tmpfs for the test; skip where mounting is not permitted."""
    mountpoint = tmp_path / "fs"
    mountpoint.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE}", "tmpfs", str(mountpoint)]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def message(n: int) -> bytes:
    return f"Subject: fill {n}\r\n\r\n".encode() + b"z" * MESSAGE_BODY + b"\r\n"


def send(client: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
    """Run one transaction on an open session; return the DATA reply."""
    client.mail("s@example.com")
    client.rcpt("r@example.com")
    return client.data(data)


def fill_until_refused(client: smtplib.SMTP, acked: dict[int, bytes], limit: int = 200) -> int:
    """Send until a 451; check every refusal is a 451 4.3.0; return how many were refused."""
    for n in range(limit):
        data = message(n)
        code, reply = send(client, data)
        if code == statuscodes.OK:
            acked[int(QUEUED.search(reply.decode()).group(1))] = data  # type: ignore[union-attr]
            continue
        assert code == statuscodes.LOCAL_ERROR and reply.startswith(b"4.3.0"), (code, reply)
        return 1
    raise AssertionError(f"no 451 after {limit} messages: the filesystem never filled")


def check_database(db: Path, acked: dict[int, bytes]) -> None:
    """Integrity is ok and every acknowledged message has exactly its bytes."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for message_id, data in acked.items():
            row = conn.execute("SELECT data FROM message_raw WHERE id = ?", (message_id,))
            assert bytes(row.fetchone()[0]) == data, message_id
    finally:
        conn.close()


def test_full_filesystem_answers_451_then_recovers_when_space_returns(
    small_fs: Path, launch: Launch
) -> None:
    ballast = small_fs / "ballast"
    ballast.write_bytes(b"\0" * BALLAST)
    db = small_fs / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db),
                    "--max-messages", "0")  # fmt: skip
    acked: dict[int, bytes] = {}
    with smtplib.SMTP(*server.smtp, timeout=30) as client:
        client.ehlo()
        assert fill_until_refused(client, acked) == 1
        assert client.noop()[0] == statuscodes.OK  # still serving
        ballast.unlink()
        code, reply = send(client, message(999))
        assert code == statuscodes.OK, reply
        acked[int(QUEUED.search(reply.decode()).group(1))] = message(999)  # type: ignore[union-attr]
    code, err = server.stop()
    assert code == 0, err
    check_database(db, acked)


async def _keep_sending(host: str, port: int, label: int, acked: dict[int, bytes]) -> None:
    """Send numbered messages on one session until the server goes away."""
    try:
        async with aiosmtplib.SMTP(hostname=host, port=port, timeout=30) as client:
            for n in range(100_000):
                data = f"Subject: s{label}-{n}\r\n\r\n{'y' * (n % 700)}\r\n".encode()
                _, reply = await client.sendmail("s@example.com", ["r@example.com"], data)
                acked[int(QUEUED.search(reply).group(1))] = data  # type: ignore[union-attr]
    except (aiosmtplib.SMTPException, OSError):
        return  # killed: what was acknowledged before counts


async def _load_then_kill(server: ServerProcess, acked: dict[int, bytes], target: int) -> None:
    tasks = [asyncio.create_task(_keep_sending(*server.smtp, n, acked)) for n in range(SESSIONS)]
    async with asyncio.timeout(90):
        while len(acked) < target:
            await asyncio.sleep(0.02)
    server.stop(signal.SIGKILL)
    async with asyncio.timeout(60):
        await asyncio.gather(*tasks)


def test_kill_9_under_200_sessions_loses_no_acknowledged_message(
    tmp_path: Path, launch: Launch
) -> None:
    db = tmp_path / "mail.db"
    args = ("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db), "--max-messages", "0",
            "--max-connections", "1000")  # fmt: skip
    acked: dict[int, bytes] = {}
    asyncio.run(_load_then_kill(launch(*args), acked, target=2000))
    assert len(acked) >= 2000
    restarted = launch(*args)
    with smtplib.SMTP(*restarted.smtp, timeout=30) as client:
        client.ehlo()
        code, reply = send(client, b"Subject: after the restart\r\n\r\nok\r\n")
    assert code == statuscodes.OK, reply
    check_database(db, acked)
    code, err = restarted.stop()
    assert code == 0, err


def _index_worker(pid: int) -> int:
    """Return the pid of the server's indexing worker (not multiprocessing's tracker)."""
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (proc / "stat").read_text().rpartition(")")[2].split()
            if int(stat[1]) == pid and b"spawn_main" in (proc / "cmdline").read_bytes():
                return int(proc.name)
    raise AssertionError("no indexing worker found")


def _indexed(db: Path, message_id: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT indexed FROM messages WHERE id = ?", (message_id,))
            if row.fetchone()[0]:
                return True
            time.sleep(0.05)
        return False
    finally:
        conn.close()


def test_indexing_goes_on_after_the_worker_is_killed(tmp_path: Path, launch: Launch) -> None:
    db = tmp_path / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db))
    with smtplib.SMTP(*server.smtp, timeout=30) as client:
        client.ehlo()
        first = int(QUEUED.search(send(client, message(1))[1].decode()).group(1))  # type: ignore[union-attr]
        assert _indexed(db, first)
        os.kill(_index_worker(server.proc.pid), signal.SIGKILL)  # as the OOM killer would
        second = int(QUEUED.search(send(client, message(2))[1].decode()).group(1))  # type: ignore[union-attr]
    assert _indexed(db, second)
    code, err = server.stop()
    assert code == 0, err

"""A real spamd for the tests: Debian's spamassassin and spamd, on a free loopback port.

spamd runs with -L (local tests only: no DNS blocklists, no traffic off this machine) and -x
(no per-user configuration). scripts/test installs the packages; without them the tests that
need spamd are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.config import Address

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPAMD = shutil.which("spamd") or ("/usr/sbin/spamd" if Path("/usr/sbin/spamd").exists() else None)
START_TIMEOUT = 120.0  # spamd compiles its rules at start: seconds, more on a busy machine


def free_port() -> int:
    """Return a loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pong(port: int) -> bool:
    """Ask spamd PING over SPAMC; True once it answers PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING SPAMC/1.5\r\n\r\n")
            return b"PONG" in sock.recv(100)
    except OSError:
        return False


def run_spamd(log: Path) -> Iterator[Address]:
    """Start spamd, wait (bounded) until it answers, yield its address, stop it."""
    if SPAMD is None:
        pytest.skip("spamd is not installed (Debian: spamassassin and spamd; scripts/test"
                    " installs them when run as root)")  # fmt: skip
    port = free_port()
    command = [SPAMD, "-L", "-x", "--listen", f"127.0.0.1:{port}", "--max-children", "1",
               "-s", "stderr"]  # fmt: skip
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # spamd refuses to keep running as root
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not pong(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spamd did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Address("127.0.0.1", port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Running `mailtrap-lite` as a real subprocess and reading its start-up lines."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_KEYS = ("smtp", "http", "db")


@dataclass
class ServerProcess:
    """A started server: the process and what it printed at start-up (key -> value)."""

    proc: subprocess.Popen[str]
    info: dict[str, str] = field(default_factory=dict)

    @property
    def smtp(self) -> tuple[str, int]:
        host, _, port = self.info["smtp"].rpartition(":")
        return host.strip("[]"), int(port)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str]:
        """Send a signal, wait, and return (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


    def exited(self, timeout: float = 30.0) -> tuple[int, str]:
        """Wait for the process to end by itself (killed after `timeout`); (status, stderr)."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def start_server(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 15.0,
    preexec_fn: Callable[[], None] | None = None,
    command: list[str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    """Start `python -m mailtrap_lite ARGS` (or `command ARGS`) and wait for its start-up lines."""
    proc = subprocess.Popen(
        [*(command or [sys.executable, "-m", "mailtrap_lite"]), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, preexec_fn=preexec_fn, cwd=cwd,
    )  # fmt: skip
    server = ServerProcess(proc)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while not all(k in server.info for k in STARTUP_KEYS):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = ""
        if not line:
            code, err = server.stop(signal.SIGKILL)
            raise RuntimeError(f"server did not start (status {code}): {err}")
        key, _, value = line.partition(": ")
        server.info[key.strip()] = value.strip()
    return server


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    """Copy start-up lines to the queue; an empty string means the output ended."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
        if line.startswith("db: "):
            return
    lines.put("")


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 15.0
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion (for arguments that make it exit)."""
    return subprocess.run(
        [sys.executable, "-m", "mailtrap_lite", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
        check=False,
    )  # fmt: skip


def socket_states(pid: int) -> list[str]:
    """Return the TCP state of each socket the process holds ("01" established, "08" CLOSE-WAIT).

    Read from /proc: the process's socket inodes, looked up in /proc/net/tcp and tcp6.
    """
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    states = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            for row in list(rows)[1:]:
                columns = row.split()
                if columns[9] in inodes:
                    states.append(columns[3])
    return states


CLOSE_WAIT = "08"

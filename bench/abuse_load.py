"""Attacks of bench/abuse.py that try to freeze the sink or exhaust its memory.

- slow-query: fills --fill messages of 50 KB, then sends searches and deletions of many
  terms (100, 60 and 20 terms; the short ones are scanned without the index);
- starve-http: --idle-sockets idle connections to the web port, then --searches concurrent
  3-term searches;
- noop-flood: one connection pipelines --noops NOOPs with 490-byte arguments, then QUIT;
  then the session's page, the sessions list, and the server's memory;
- view-bomb: the 2,000,000-header and 30 MB single-line bombs of tests/bombs.py, each viewed
  by 4 browsers at once (the message page): page size, time and the server's RSS growth.

Each returns the lines of its report; bench/abuse.py runs them with its observer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import smtplib
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from abuse import TIMEOUT, Attack, Target
from ingest import BenchError

REPO_ROOT = Path(__file__).resolve().parent.parent
FILL_BODY = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 16 + "\r\n") * 55
NOOP_ARGUMENT = "n" * 490


def fill(target: Target, count: int, body: str = FILL_BODY) -> None:
    """Store `count` filler messages over one SMTP connection, then wait for the indexer."""
    with smtplib.SMTP(*target.smtp, timeout=TIMEOUT) as client:
        for n in range(count):
            message = f"Subject: filler {n}\r\nFrom: fill@example.com\r\n\r\n{body}"
            client.sendmail("fill@example.com", ["dev@example.com"], message.encode())
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        _, body_bytes = target.get("/api/v1/health")
        if json.loads(body_bytes)["unindexed"] == 0:
            return
        time.sleep(0.5)


def timed(target: Target, method: str, path: str) -> str:
    """Send one request; return its status and how long it took."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(target.url.removeprefix("http://"), timeout=600)
    try:
        conn.request(method, path, headers=target.headers())
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    seconds = time.monotonic() - started
    detail = body[:90].decode(errors="replace").strip() if response.status != 200 else ""
    return f"{response.status} in {seconds:.1f} s {detail}".rstrip()


def query_of(terms: int) -> str:
    """Return a query of `terms` terms: the fillers' subject, then negated short words."""
    negated = [f"-z{chr(ord('a') + n % 26)}" for n in range(terms - 1)]
    return " ".join(["subject:filler", *negated])


def attack_slow_query(target: Target) -> list[str]:
    lines = []
    for method, terms in (("GET", 100), ("GET", 20), ("DELETE", 60), ("DELETE", 20)):
        path = "/api/v1/messages?" + urlencode({"query": query_of(terms)})
        lines.append(f"{method} with {terms} terms: {timed(target, method, path)}")
    return lines


def attack_starve_http(target: Target) -> list[str]:
    host, _, port = target.url.removeprefix("http://").rpartition(":")
    idle = [socket.create_connection((host, int(port)), timeout=TIMEOUT)
            for _ in range(target.args.idle_sockets)]  # fmt: skip
    for n, sock in enumerate(idle):
        if n % 2:  # half of them half-open: a request begun and never finished
            sock.sendall(b"GET /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    results: list[str] = []
    path = "/api/v1/messages?" + urlencode({"query": "lorem dolor elit"})

    def search() -> None:
        results.append(timed(target, "GET", path).split(" ", 1)[0])

    threads = [threading.Thread(target=search) for _ in range(target.args.searches)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    health = [timed(target, "GET", "/api/v1/health") for _ in range(5)]
    page = timed(target, "GET", "/messages/1")
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    for sock in idle:
        sock.close()
    return [
        f"{len(idle)} idle sockets, then {len(threads)} concurrent searches for 3 words:"
        f" statuses {dict(Counter(results))}, all done in {seconds:.1f} s",
        f"meanwhile health: {'; '.join(health)}",
        f"meanwhile a message page: {page}",
    ]


def memory(pid: int, key: str) -> int:
    """Return VmRSS or VmHWM of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return 0


def reset_peak(pid: int) -> int:
    """Reset the process's peak RSS (VmHWM) to its current RSS; return that, in MiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return memory(pid, "VmRSS")


def attack_noop_flood(target: Target) -> list[str]:
    pid = target.server.pid
    before = reset_peak(pid)
    count = target.args.noops
    with socket.create_connection(target.smtp, timeout=TIMEOUT) as sock:
        reader = threading.Thread(target=_drain_replies, args=(sock, count + 2))
        reader.start()
        sock.sendall(b"EHLO flood\r\n")
        line = f"NOOP {NOOP_ARGUMENT}\r\n".encode()
        started = time.monotonic()
        for sent in range(0, count, 1000):
            sock.sendall(line * min(1000, count - sent))
        sock.sendall(b"QUIT\r\n")
        reader.join()
        seconds = time.monotonic() - started
    peak, after = memory(pid, "VmHWM"), memory(pid, "VmRSS")
    session = _ended_session(target, "flood")
    return [
        f"{count} pipelined NOOPs with 490-byte arguments in {seconds:.1f} s;"
        f" server RSS {before} -> peak {peak} -> {after} MiB",
        f"/sessions/{session} page: {_sized(target, f'/sessions/{session}')}",
        f"/api/v1/sessions/{session}: {_sized(target, f'/api/v1/sessions/{session}')}",
        f"/sessions list: {_sized(target, '/sessions')}",
    ]


def _ended_session(target: Target, helo: str) -> int:
    """Return the id of the ended session that said EHLO `helo` (its end is stored async)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, body = target.get("/api/v1/sessions?limit=1000")
        for session in json.loads(body)["sessions"]:
            if session["helo"] == helo and session["ended_at"]:
                return int(session["id"])
        time.sleep(0.2)
    raise BenchError(f"no ended session with EHLO {helo} within 120 s")


def _drain_replies(sock: socket.socket, lines: int) -> None:
    seen = 0
    buffer = b""
    while seen < lines:
        data = sock.recv(65536)
        if not data:
            return
        buffer += data
        seen += buffer.count(b"\r\n")
        buffer = buffer[buffer.rfind(b"\r\n") + 2 :]


def _sized(target: Target, path: str) -> str:
    started = time.monotonic()
    status, body = target.get(path, timeout=600)
    return f"{status}, {len(body) / 1024:.0f} KiB in {time.monotonic() - started:.2f} s"


def prepare_bombs(target: Target) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    from tests import bombs

    for raw in (bombs.many_headers(2_000_000), bombs.one_line(30_000_000)):
        with smtplib.SMTP(*target.smtp, timeout=600) as client:
            client.sendmail("bomb@example.com", ["dev@example.com"], raw)
    fill(target, 0)  # waits for the indexer


def attack_view_bomb(target: Target) -> list[str]:
    _, body = target.get("/api/v1/messages?" + urlencode({"query": "from:bomb@example.com"}))
    return [_four_views(target, summary) for summary in reversed(json.loads(body)["messages"])]


def _four_views(target: Target, summary: dict[str, object]) -> str:
    """View one message from 4 clients at once; the server's RSS growth meanwhile."""
    before = reset_peak(target.server.pid)
    results: list[str] = []
    path = f"/messages/{summary['id']}"
    threads = [threading.Thread(target=lambda: results.append(_sized(target, path)))
               for _ in range(4)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    growth = memory(target.server.pid, "VmHWM") - before
    size = int(str(summary["size"])) / 2**20
    return (f"message {summary['id']} ({size:.1f} MiB), 4 views at once: {results[0]} each;"
            f" server RSS +{growth} MiB")  # fmt: skip


LOAD_ATTACKS: dict[str, Attack] = {
    "slow-query": Attack(attack_slow_query, prepare=lambda t: fill(t, t.args.fill)),
    "starve-http": Attack(attack_starve_http, prepare=lambda t: fill(t, 200)),
    "noop-flood": Attack(attack_noop_flood),
    "view-bomb": Attack(attack_view_bomb, prepare=prepare_bombs),
}


def add_load_args(p: argparse.ArgumentParser) -> None:
    """Add the bounded counts of these attacks."""
    p.add_argument("--fill", type=int, default=2000, help="50 KB messages before slow-query")
    p.add_argument("--idle-sockets", type=int, default=100, help="idle web connections")
    p.add_argument("--searches", type=int, default=70, help="concurrent searches")
    p.add_argument("--noops", type=int, default=100_000, help="pipelined NOOPs")

"""API clients for the load and soak benchmarks: lists, searches and waits, in threads.

Each client thread loops over the three kinds of request of INTERFACE.md until stopped:
``GET /api/v1/messages?limit=50``, a search ``GET /api/v1/messages?query=...`` and a
server-side wait ``GET /api/v1/wait?after=ID&timeout=5`` for mail newer than the newest
listed. Every request has a timeout; statuses other than 200 (and 408 for a wait that timed
out) count as errors, grouped by kind and status.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict

REQUEST_TIMEOUT = 15.0
WAIT_SECONDS = 5


class ApiLoad:
    """A few threads that keep the JSON API busy until ``stop``."""

    def __init__(self, base_url: str, clients: int = 4, timeout: float = 600.0) -> None:
        self.base = base_url
        self.deadline = time.monotonic() + timeout
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.newest = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(n,), daemon=True)
                         for n in range(clients)]  # fmt: skip

    def start(self) -> None:
        """Start the client threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads (a wait in progress ends within its own timeout)."""
        self._halt.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + WAIT_SECONDS)

    def _loop(self, client: int) -> None:
        n = 0
        while not self._halt.is_set() and time.monotonic() < self.deadline:
            kind, path = self._next_request(client, n)
            self._request(kind, path)
            n += 1

    def _next_request(self, client: int, n: int) -> tuple[str, str]:
        choice = (client + n) % 3
        if choice == 0:
            return "list", "/api/v1/messages?limit=50"
        if choice == 1:
            query = urllib.parse.quote(f'subject:"load {n % 50}-"')
            return "search", f"/api/v1/messages?query={query}&limit=20"
        return "wait", f"/api/v1/wait?after={self.newest}&count=1&timeout={WAIT_SECONDS}"

    def _request(self, kind: str, path: str) -> None:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(self.base + path, timeout=REQUEST_TIMEOUT) as response:
                body = response.read()
            status = 200
        except urllib.error.HTTPError as error:
            status, body = error.code, b""
        except (urllib.error.URLError, OSError) as error:
            status, body = 0, str(error).encode()
        elapsed = time.perf_counter() - started
        with self._lock:
            if status == 200 or (kind == "wait" and status == 408):
                self.latencies[kind].append(elapsed)
            else:
                self.errors[f"{kind}: {status or body.decode(errors='replace')}"] += 1
        if status == 200 and kind == "list":
            self._remember_newest(body)

    def _remember_newest(self, body: bytes) -> None:
        try:
            messages = json.loads(body).get("messages") or []
            newest = max((int(m["id"]) for m in messages), default=0)
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        with self._lock:
            self.newest = max(self.newest, newest)

    def report(self) -> None:
        """Print requests, latency and errors per kind."""
        print("API requests   kind     count    p50 ms    p99 ms")
        for kind in ("list", "search", "wait"):
            values = sorted(v * 1000 for v in self.latencies.get(kind, []))
            p50 = values[len(values) // 2] if values else float("nan")
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan")
            print(f"               {kind:<8}{len(values):>6}{p50:>10.1f}{p99:>10.1f}")
        print(f"API errors     {self.errors.total()}")
        for reason, count in self.errors.most_common(5):
            print(f"  {count} x {reason}")

"""Index lag benchmark: how far search falls behind a sustained burst of SMTP mail.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/index_lag.py                      # 60 s of 1 KB messages, 8 connections
    python bench/index_lag.py --size 20KB --seconds 30
    python bench/index_lag.py --mtl-arg=--loop=asyncio

It starts ``python -m mailtrap_lite --smtp 127.0.0.1:0 --http 127.0.0.1:0 --db TMP/lag.db
--max-messages 0`` (checking, as bench/ingest.py does, that the listener belongs to it), sends
messages as fast as the server takes them over persistent connections for ``--seconds``, and
reads ``GET /api/v1/health`` once a second: messages stored, ``unindexed`` and
``index_lag_seconds`` (the age of the oldest message search cannot find yet). After the
burst it keeps reading until everything is indexed (at most ``--drain-cap`` seconds).

Printed: one line per second, then the ingest rate, the index rate during the burst
(messages that became searchable per second), the largest lag, the lag and backlog when the
burst ended, and how long the backlog took to clear. The lag stays bounded when indexing
keeps up with ingest.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import (  # noqa: E402
    BenchError,
    Connection,
    Payload,
    add_mtl_arg,
    build_payloads,
    client_loop_factory,
    close_session,
    open_session,
    run_async,
    run_bench,
    running,
    stdout_value,
    transaction,
)


@dataclass(frozen=True)
class Reading:
    """One read of /api/v1/health."""

    at: float  # seconds since the burst began
    messages: int
    unindexed: int
    lag: float


class HealthReader:
    """Reads /api/v1/health once a second on a thread of its own."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                               timeout=30)  # fmt: skip
        self.readings: list[Reading] = []
        self.started = time.perf_counter()
        self._lock = threading.Lock()  # one request at a time on the connection
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> Reading:
        """Read the server's health now."""
        with self._lock:
            self.conn.request("GET", "/api/v1/health")
            health = json.loads(self.conn.getresponse().read())
        return Reading(time.perf_counter() - self.started, health["messages"],
                       health["unindexed"], health["index_lag_seconds"])  # fmt: skip

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            reading = self.read()
            self.readings.append(reading)
            print(f"  {reading.at:6.1f} s  stored {reading.messages:7d}  unindexed"
                  f" {reading.unindexed:7d}  lag {reading.lag:6.2f} s", flush=True)  # fmt: skip

    def start(self) -> None:
        self.started = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def burst(host: str, port: int, payload: Payload, connections: int, seconds: float) -> int:
    """Send messages over `connections` sessions for `seconds`; return how many were taken."""
    conns = await asyncio.gather(*(open_session(host, port) for _ in range(connections)))
    deadline = time.perf_counter() + seconds
    counts = [0] * connections

    async def send(index: int, conn: Connection) -> None:
        while time.perf_counter() < deadline:
            refusal = await transaction(conn, payload.render(index * 10_000_000 + counts[index]))
            if refusal is not None:
                raise BenchError(f"message refused: {refusal}")
            counts[index] += 1

    await asyncio.gather(*(send(i, conn) for i, conn in enumerate(conns)))
    await asyncio.gather(*(close_session(conn, polite=True) for conn in conns))
    return sum(counts)


def run(args: argparse.Namespace) -> None:
    """Start the server, run the burst, drain, print the summary."""
    payload = next(p for p in build_payloads() if p.label == args.size)
    with tempfile.TemporaryDirectory(prefix="index-lag-") as tmp:
        workdir = Path(tmp)
        command = [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http",
                   "127.0.0.1:0", "--db", str(workdir / "lag.db"), "--max-messages", "0",
                   *args.mtl_arg]  # fmt: skip
        with running("mailtrap-lite", command, workdir, 30.0) as server:
            url = _http_url(server)
            reader = HealthReader(url)
            print(f"mailtrap-lite pid {server.pid}: {args.seconds:g} s of {payload.label}"
                  f" ({payload.size()} bytes) over {args.connections} connections", flush=True)
            reader.start()
            sent = run_async(burst(server.host, server.port, payload, args.connections,
                                   args.seconds), client_loop_factory())  # fmt: skip
            ended = reader.read()
            drain_started = time.perf_counter()
            while reader.read().unindexed and time.perf_counter() - drain_started < args.drain_cap:
                time.sleep(0.2)
            drained = time.perf_counter() - drain_started
            left = reader.read().unindexed
            reader.stop()
        summarise(reader.readings, ended, sent, args.seconds, drained, left)


def _http_url(server: object) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        url = stdout_value(server, "http")  # type: ignore[arg-type]
        if url:
            return url
        time.sleep(0.05)
    raise BenchError("the server printed no 'http: URL' line")


def summarise(
    readings: list[Reading], ended: Reading, sent: int, seconds: float, drained: float, left: int
) -> None:
    """Print ingest and index rates and the lag figures."""
    during = [r for r in readings if r.at <= ended.at]
    indexed = ended.messages - ended.unindexed
    print(f"\ningest: {sent} messages in {seconds:g} s = {sent / seconds:.0f} msg/s")
    print(f"index:  {indexed} searchable when the burst ended = {indexed / ended.at:.0f} msg/s")
    lags = [r.lag for r in during] or [0.0]
    print(f"lag during the burst: median {statistics.median(lags):.2f} s, max {max(lags):.2f} s;"
          f" at its end {ended.lag:.2f} s with {ended.unindexed} messages unindexed")  # fmt: skip
    done = "all indexed" if not left else f"{left} still unindexed"
    print(f"backlog cleared in {drained:.1f} s after the burst ({done})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of the burst")
    p.add_argument("--size", choices=["1KB", "20KB"], default="1KB", help="message size")
    p.add_argument("--connections", type=int, default=8, help="persistent SMTP connections")
    p.add_argument("--drain-cap", type=float, default=300.0, help="seconds to wait for the index")
    add_mtl_arg(p)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_bench(run, parse_args))

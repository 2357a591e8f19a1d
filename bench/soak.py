"""Soak benchmark: a steady SMTP rate for minutes; memory and descriptors must stay flat.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/soak.py                          # 600 s at 400 msg/s over 50 sessions
    python bench/soak.py --seconds 180 --rate 200
    python bench/soak.py --sse                    # also follow the event stream (after the API)

It starts its own ``mailtrap-lite`` (default retention: the newest 10,000 messages are kept,
as a sink left running for days would) and checks that the listener belongs to it. Each of
``--clients`` sessions sends at rate/clients messages per second on a fixed schedule. Every
``--interval`` seconds it samples the server's resident memory (VmRSS), its open file
descriptors, the indexing worker's VmRSS, the size of the write-ahead log and the messages
acknowledged so far, and prints a row; at the end it prints the series again with
first/last/max. After stopping the server it opens the database with the Store: every
acknowledged message that retention keeps (the newest ``--max-messages``) must be there with
exactly its bytes, and the count pruned must equal the rest. The default rate is about half
of the maximum that bench/ingest.py measured for 1 KB messages on the development machine
(605 to 872 msg/s on 2 cores shared with other work).

``--sse`` (optionally ``--sse URL``) keeps ``GET /api/v1/events`` open during the soak and
counts the events (the endpoint comes with the JSON API; before it, the stream reports 404).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import (  # noqa: E402
    BenchError,
    add_mtl_arg,
    client_loop_factory,
    run_async,
    run_bench,
    running,
    stdout_value,
)
from load import Results, message, percentile, session  # noqa: E402

from mailtrap_lite.store.sqlite import SQLiteStore

DEFAULT_RATE = 400


@dataclass
class Sample:
    """One row of the series."""

    at: float
    rss_kib: int
    fds: int
    worker_kib: int
    acked: int
    wal_mib: float  # the write-ahead log on disk: must not grow without bound either


def rss_kib(pid: int) -> int:
    """Return VmRSS of a process in KiB (0 once it has gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    """Return how many file descriptors a process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """Return the pids of the direct children of a process (the indexing worker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def sample(pid: int, started: float, results: Results, db: Path) -> Sample:
    """Read the server's numbers now."""
    worker = sum(rss_kib(child) for child in children(pid))
    wal = Path(f"{db}-wal")
    wal_mib = wal.stat().st_size / 1024 / 1024 if wal.exists() else 0.0
    return Sample(time.monotonic() - started, rss_kib(pid), open_fds(pid), worker,
                  len(results.acked), wal_mib)  # fmt: skip


def print_row(s: Sample) -> None:
    print(f"{s.at:>7.0f} s  rss {s.rss_kib / 1024:>6.1f} MiB  fds {s.fds:>4}  worker"
          f" {s.worker_kib / 1024:>6.1f} MiB  wal {s.wal_mib:>8.1f} MiB  acked {s.acked:>8}",
          flush=True)  # fmt: skip


async def sampler(pid: int, db: Path, interval: float, started: float, results: Results,
                  series: list[Sample], stop: asyncio.Event) -> None:  # fmt: skip
    """Sample every ``interval`` seconds until ``stop``."""
    while True:
        series.append(sample(pid, started, results, db))
        print_row(series[-1])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await stop.wait()
                return


def pacer(rate: float, offset: float) -> Callable[[], Awaitable[None]]:
    """Return an async callable that sleeps until this client's next scheduled send."""
    state = {"next": time.monotonic() + offset}

    async def pace() -> None:
        delay = state["next"] - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        state["next"] += 1.0 / rate

    return pace


async def soak(host: str, port: int, pid: int, db: Path, args: argparse.Namespace,
               results: Results, series: list[Sample]) -> float:  # fmt: skip
    """Send at the steady rate for ``--seconds`` while sampling; return the seconds taken."""
    started = time.monotonic()
    deadline = started + args.seconds
    per_client = args.rate / args.clients

    def plan_for(label: int) -> Callable[[int], bytes | None]:
        return lambda n: message(label, n, args.size) if time.monotonic() < deadline else None

    stop = asyncio.Event()
    watcher = asyncio.create_task(sampler(pid, db, args.interval, started, results, series, stop))
    clients = [session(host, port, c, plan_for(c), results,
                       pacer(per_client, c / args.rate))
               for c in range(args.clients)]  # fmt: skip
    try:
        async with asyncio.timeout(args.seconds + 60):
            await asyncio.gather(*clients)
    except TimeoutError:
        results.errors["clients still busy 60 s after the end"] += 1
    seconds = time.monotonic() - started
    stop.set()
    await watcher
    return seconds


def verify(db: Path, acked: dict[int, bytes], keep: int) -> tuple[int, int, int]:
    """Return (kept and intact, lost, pruned as counted by the Store)."""
    ordered = sorted(acked)
    kept = ordered[-keep:] if keep else ordered
    store = SQLiteStore(db)
    try:
        intact = sum(1 for mid in kept if store.raw(mid) == acked[mid])
        pruned = store.stats()["pruned"]
    finally:
        store.close()
    return intact, len(kept) - intact, pruned


class EventStream(threading.Thread):
    """Follows GET /api/v1/events, reconnecting with Last-Event-ID, and counts events."""

    def __init__(self, url: str, deadline: float) -> None:
        super().__init__(daemon=True)
        self.url, self.deadline = url, deadline
        self.events, self.connects, self.errors = 0, 0, []  # type: ignore[var-annotated]
        self.last_id = ""

    def run(self) -> None:
        while time.monotonic() < self.deadline and len(self.errors) < 20:
            headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
            request = urllib.request.Request(self.url, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as stream:
                    self.connects += 1
                    for line in stream:
                        self._line(line.decode(errors="replace").strip())
                        if time.monotonic() > self.deadline:
                            return
            except (urllib.error.URLError, OSError) as error:
                self.errors.append(str(error))
                time.sleep(1)

    def _line(self, line: str) -> None:
        if line.startswith("event:"):
            self.events += 1
        elif line.startswith("id:"):
            self.last_id = line[3:].strip()


def print_summary(series: list[Sample], results: Results, seconds: float,
                  verdict: tuple[int, int, int]) -> None:  # fmt: skip
    """Print the series and the totals."""
    print("\nseries (every row one sample):")
    for s in series:
        print_row(s)
    for name, values in (("rss MiB", [s.rss_kib / 1024 for s in series]),
                         ("fds", [float(s.fds) for s in series]),
                         ("worker MiB", [s.worker_kib / 1024 for s in series]),
                         ("wal MiB", [s.wal_mib for s in series])):  # fmt: skip
        print(f"{name:<11} first {values[0]:.1f}  last {values[-1]:.1f}  max {max(values):.1f}")
    ms = [v * 1000 for v in results.latencies]
    print(f"acknowledged {len(results.acked)} in {seconds:.0f} s"
          f" = {len(results.acked) / seconds:.0f} msg/s; DATA p50 {percentile(ms, 0.5):.1f} ms,"
          f" p99 {percentile(ms, 0.99):.1f} ms; errors {results.errors.total()}")  # fmt: skip
    for reason, count in results.errors.most_common(5):
        print(f"  {count} x {reason}")
    intact, lost, pruned = verdict
    print(f"kept and intact {intact}, lost {lost}, pruned by retention {pruned}")


def server_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Return the mailtrap-lite command line for this run."""
    http = "127.0.0.1:0" if args.sse == "auto" else "off"
    return [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", http,
            "--db", str(workdir / "soak.db"), "--max-messages", str(args.max_messages),
            *args.mtl_arg]  # fmt: skip


def run(args: argparse.Namespace) -> None:
    """Start the server, soak it, stop it, verify, report."""
    with tempfile.TemporaryDirectory(prefix="soak-bench-") as tmp:
        workdir, results, series = Path(tmp), Results(), []  # type: ignore[var-annotated]
        with running("mailtrap-lite", server_command(args, workdir), workdir, 30.0) as server:
            print(
                f"mailtrap-lite: pid {server.pid}, smtp {server.host}:{server.port};"
                f" {args.rate} msg/s over {args.clients} sessions for {args.seconds:.0f} s"
            )
            events = start_events(args, stdout_value(server, "http"))
            db = workdir / "soak.db"
            coro = soak(server.host, server.port, server.pid, db, args, results, series)
            seconds = run_async(coro, client_loop_factory())
        verdict = verify(workdir / "soak.db", results.acked, args.max_messages)
        print_summary(series, results, seconds, verdict)
        if events is not None:
            print(
                f"event stream: {events.events} events over {events.connects} connection(s);"
                f" errors {len(events.errors)} {events.errors[:1]}"
            )


def start_events(args: argparse.Namespace, printed_url: str | None) -> EventStream | None:
    """Open the event stream when --sse is given."""
    if args.sse is None:
        return None
    base = printed_url if args.sse == "auto" else args.sse
    if not base or base == "off":
        raise BenchError("--sse: the server has no web address")
    stream = EventStream(base.rstrip("/") + "/api/v1/events", time.monotonic() + args.seconds)
    stream.start()
    return stream


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0, help="how long to send")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE, help="messages per second")
    p.add_argument("--clients", type=int, default=50, help="concurrent SMTP sessions")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--size", type=int, default=1024, help="bytes per message, about")
    p.add_argument("--max-messages", type=int, default=10_000, help="server retention (0: all)")
    p.add_argument("--sse", nargs="?", const="auto", metavar="URL",
                   help="also follow /api/v1/events (default: the server's own URL)")  # fmt: skip
    add_mtl_arg(p)
    return p.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(run_bench(run, parse_args))

"""Load benchmark: many concurrent SMTP sessions into mailtrap-lite; zero errors, none lost.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/load.py                              # 200 sessions x 20 messages
    python bench/load.py --sessions 50 --messages 100
    python bench/load.py --api                        # also list/search/wait over the API

It starts its own ``mailtrap-lite --smtp 127.0.0.1:0 --db TMP/load.db --max-messages 0``
(and checks that the listener it loads belongs to that process, as bench/ingest.py does),
opens every session first, then each session sends its messages one transaction at a time
(MAIL, RCPT, DATA; each message unique). It reports messages per second, errors by reason,
and the p50/p99/max time from the end of the data to the DATA reply. After stopping the
server it opens the database with the Store and checks that every acknowledged message is
there with exactly the bytes sent.

``--api`` (optionally ``--api URL`` for the server's web address; by default the one the
started server prints) runs API clients beside the SMTP load: message lists, searches, and
server-side waits (routes in INTERFACE.md), and reports their counts, errors and latency.
Everything is bounded: ``--time-cap`` seconds for the load, timeouts on every request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apiload import ApiLoad  # noqa: E402
from ingest import (  # noqa: E402
    DATA,
    MAIL,
    RCPT,
    BenchError,
    Connection,
    add_mtl_arg,
    client_loop_factory,
    close_session,
    open_session,
    read_reply,
    run_async,
    run_bench,
    running,
    stdout_value,
)

from mailtrap_lite.store.sqlite import SQLiteStore

QUEUED = re.compile(rb"queued as (\d+)")


@dataclass
class Results:
    """What the clients saw: acknowledged messages, refusals and DATA reply times."""

    acked: dict[int, bytes] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


def message(session: int, n: int, size: int) -> bytes:
    """Return a unique message of about ``size`` bytes, ready to send (dot-safe, CRLF.CRLF)."""
    head = (
        f"From: load{session}@example.com\r\nTo: sink@example.org\r\n"
        f"Subject: load {session}-{n}\r\nMessage-ID: <{session}.{n}@load.example>\r\n\r\n"
    )
    line = f"session {session} message {n} " + "x" * 60 + "\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


async def transaction(conn: Connection, data: bytes, results: Results) -> bool:
    """Send one message; record its id and DATA reply time; False if refused."""
    reader, writer = conn
    for command in (MAIL, RCPT, DATA):
        writer.write(command)
        reply = await read_reply(reader)
        if reply[:1] not in (b"2", b"3"):
            results.errors[reply.decode(errors="replace").strip()] += 1
            return False
    writer.write(data + b".\r\n")
    await writer.drain()
    sent = time.perf_counter()
    reply = await read_reply(reader)
    results.latencies.append(time.perf_counter() - sent)
    match = QUEUED.search(reply)
    if not reply.startswith(b"250") or match is None:
        results.errors[reply.decode(errors="replace").strip()] += 1
        return False
    results.acked[int(match.group(1))] = data
    return True


Pace = Callable[[], Awaitable[None]]


async def session(host: str, port: int, label: int, plan: Callable[[int], bytes | None],
                  results: Results, pace: Pace | None = None) -> None:  # fmt: skip
    """Open a session, send what ``plan`` gives (None ends it), then QUIT."""
    try:
        conn = await open_session(host, port)
    except (OSError, ConnectionError, BenchError) as error:
        results.errors[f"cannot open a session: {error}"] += 1
        return
    n = 0
    try:
        while (data := plan(n)) is not None:
            if pace is not None:
                await pace()
            if not await transaction(conn, data, results):
                conn[1].write(b"RSET\r\n")
                await read_reply(conn[0])
            n += 1
    except (ConnectionError, asyncio.IncompleteReadError, RuntimeError) as error:
        results.errors[f"connection lost: {error}"] += 1
    finally:
        await close_session(conn, polite=True)


async def smtp_load(host: str, port: int, args: argparse.Namespace, results: Results) -> float:
    """Run every session concurrently within the time cap; return the seconds taken."""

    def plan_for(label: int) -> Callable[[int], bytes | None]:
        return lambda n: message(label, n, args.size) if n < args.messages else None

    started = time.perf_counter()
    tasks = [session(host, port, s, plan_for(s), results) for s in range(args.sessions)]
    try:
        async with asyncio.timeout(args.time_cap):
            await asyncio.gather(*tasks)
    except TimeoutError:
        results.errors["stopped by --time-cap"] += 1
    return time.perf_counter() - started


def verify(db: Path, acked: dict[int, bytes]) -> tuple[int, int]:
    """Open the database with the Store; return (missing, different) acknowledged messages."""
    store = SQLiteStore(db)
    try:
        stored = {message_id: store.raw(message_id) for message_id in acked}
    finally:
        store.close()
    missing = sum(1 for raw in stored.values() if raw is None)
    different = sum(1 for mid, raw in stored.items() if raw is not None and raw != acked[mid])
    return missing, different


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def print_report(results: Results, seconds: float, missing: int, different: int) -> None:
    """Print the outcome of the run."""
    ms = [v * 1000 for v in results.latencies]
    print(f"\nacknowledged   {len(results.acked)} messages in {seconds:.1f} s"
          f" = {len(results.acked) / seconds:.0f} msg/s")  # fmt: skip
    print(f"DATA reply     p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms,"
          f" max {max(ms, default=float('nan')):.1f} ms")  # fmt: skip
    print(f"errors         {results.errors.total()}")
    for reason, count in results.errors.most_common(5):
        print(f"  {count} x {reason}")
    print(f"stored         {len(results.acked) - missing - different} of {len(results.acked)}"
          f" acknowledged (missing {missing}, different bytes {different})")  # fmt: skip


def server_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Return the mailtrap-lite command line for this run."""
    http = "127.0.0.1:0" if args.api == "auto" else "off"
    return [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", http,
            "--db", str(workdir / "load.db"), "--max-messages", "0",
            "--max-connections", str(args.sessions + 50), *args.mtl_arg]  # fmt: skip


def run(args: argparse.Namespace) -> None:
    """Start the server, load it, stop it, verify, report."""
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        workdir = Path(tmp)
        results = Results()
        with running("mailtrap-lite", server_command(args, workdir), workdir, 30.0) as server:
            print(f"mailtrap-lite: pid {server.pid}, smtp {server.host}:{server.port}")
            print(f"{args.sessions} sessions x {args.messages} messages of ~{args.size} bytes")
            api = start_api(args, stdout_value(server, "http"))
            coro = smtp_load(server.host, server.port, args, results)
            seconds = run_async(coro, client_loop_factory())
            if api is not None:
                api.stop()
        missing, different = verify(workdir / "load.db", results.acked)
        print_report(results, seconds, missing, different)
        if api is not None:
            api.report()


def start_api(args: argparse.Namespace, printed_url: str | None) -> ApiLoad | None:
    """Start the API clients when --api is given."""
    if args.api is None:
        return None
    url = printed_url if args.api == "auto" else args.api
    if not url or url == "off":
        raise BenchError("--api: the server has no web address")
    api = ApiLoad(url.rstrip("/"), clients=args.api_clients, timeout=args.time_cap)
    api.start()
    return api


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=200, help="concurrent SMTP sessions")
    p.add_argument("--messages", type=int, default=20, help="messages per session")
    p.add_argument("--size", type=int, default=2048, help="bytes per message, about")
    p.add_argument("--time-cap", type=float, default=300.0, help="seconds for the whole load")
    p.add_argument("--api", nargs="?", const="auto", metavar="URL",
                   help="also load the JSON API (default: the started server's URL)")  # fmt: skip
    p.add_argument("--api-clients", type=int, default=4, help="API client threads")
    add_mtl_arg(p)
    return p.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(run_bench(run, parse_args))

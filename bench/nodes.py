"""Nodes benchmark: SMTP ingest into two mailtrap-lite nodes on one PostgreSQL, next to one.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/nodes.py                              # a throwaway PostgreSQL 15 cluster
    python bench/nodes.py --postgres postgresql://u@host/postgres   # a server of yours
    python bench/nodes.py --rounds 3 --messages 4000
    python bench/nodes.py --no-fsync                   # the throwaway cluster without fsync

Each round has two phases, each on a fresh, empty database: one node
(``mailtrap-lite --db URL``) takes ``--messages`` messages over ``--connections`` SMTP
connections; then two nodes on one database take as many messages, the connections split
evenly between them and driven together (as a TCP load balancer in front would spread
them). Both phases send the 1 KB and the 20 KB messages of bench/ingest.py, and report the
acknowledged rate, the ratio of two nodes to one, and CPU shares (100 % = one core) of each
node (its server process and its indexing worker), of PostgreSQL (every process of the
cluster) and of this client, from /proc/PID/stat (utime + stime).

On a machine with few cores the nodes, PostgreSQL and the client compete for them; the CPU
shares say where the time went, so that the scaling on a bigger machine can be judged.
Without ``--postgres`` a throwaway cluster is started (tests/pgcluster.py, PostgreSQL's
durable defaults: fsync on, unless ``--no-fsync``) and removed afterwards; with it, databases named
``mtl_bench_nodes_N`` are created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import (  # noqa: E402
    BenchError,
    Payload,
    Server,
    Tally,
    add_mtl_arg,
    build_payloads,
    client_loop_factory,
    close_session,
    cpu_seconds,
    open_session,
    run_async,
    run_bench,
    running,
    sender,
    top_errors,
)


@dataclass
class Phase:
    """One measured phase: N nodes, one message size."""

    nodes: int
    size: str
    tally: Tally
    seconds: float
    node_cpu: list[float]  # seconds, per node (server and indexing worker)
    postgres_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.tally.ok / self.seconds if self.seconds > 0 else 0.0


# --- CPU of process trees ---------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Return the pids of the processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def tree_cpu(pid: int) -> float:
    """Return the CPU seconds of a process and its children (each read while it lives)."""
    total = 0.0
    for member in [pid, *children(pid)]:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += cpu_seconds(member)
    return total


# --- the database -----------------------------------------------------------------------------


class Databases:
    """Fresh empty databases on the given server, or on a throwaway cluster started here."""

    def __init__(self, url: str | None, durable: bool = True) -> None:
        self._cluster = None
        if url is None:
            from tests.pgcluster import ClusterUnavailable, start_cluster

            try:
                self._cluster = start_cluster(durable=durable)
            except ClusterUnavailable as error:
                raise BenchError(f"cannot start PostgreSQL: {error}") from error
            url = self._cluster.url()
        self.url = url
        self._made: list[str] = []

    def postmaster(self) -> int | None:
        """Return the pid of PostgreSQL's postmaster when it runs on this machine."""
        if self._cluster is None:
            return None
        return int((self._cluster.data / "postmaster.pid").read_text().split()[0])

    def new(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"mtl_bench_nodes_{len(self._made) + 1}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")  # type: ignore[arg-type]
        self._made.append(name)
        return self.url.rpartition("/")[0] + "/" + name

    def close(self) -> None:
        """Drop the databases made here; remove the throwaway cluster."""
        if self._cluster is not None:
            self._cluster.remove()
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self._made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


# --- driving the nodes ------------------------------------------------------------------------


async def drive(
    nodes: list[Server], payload: Payload, count: int, connections: int, cap: float
) -> tuple[Tally, float]:
    """Send `count` messages over `connections` sessions spread over the nodes."""
    async with asyncio.timeout(30):
        conns = await asyncio.gather(*(
            open_session(nodes[n % len(nodes)].host, nodes[n % len(nodes)].port)
            for n in range(connections)
        ))  # fmt: skip
    tally = Tally(left=count)
    start = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(cap):
            await asyncio.gather(*(sender(conn, payload, tally) for conn in conns))
    seconds = time.perf_counter() - start
    await asyncio.gather(*(close_session(conn, polite=True) for conn in conns))
    return tally, seconds


def phase(
    nodes: list[Server], payload: Payload, args: argparse.Namespace, postmaster: int | None
) -> Phase:
    """Measure one size on these nodes, with the CPU each part used meanwhile."""
    before = [tree_cpu(node.pid) for node in nodes]
    pg_before = tree_cpu(postmaster) if postmaster else 0.0
    client_before = time.process_time()
    tally, seconds = run_async(
        drive(nodes, payload, args.messages, args.connections, args.time_cap),
        client_loop_factory(),
    )
    return Phase(
        len(nodes), payload.label, tally, seconds,
        [tree_cpu(node.pid) - b for node, b in zip(nodes, before, strict=True)],
        (tree_cpu(postmaster) - pg_before) if postmaster else 0.0,
        time.process_time() - client_before,
    )  # fmt: skip


@contextlib.contextmanager
def started(count: int, url: str, args: argparse.Namespace) -> Iterator[list[Server]]:
    """Start `count` nodes on the database at `url`; stop them afterwards."""
    command = [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off",
               "--db", url, "--max-messages", "0", *args.mtl_arg]  # fmt: skip
    with contextlib.ExitStack() as stack:
        nodes = []
        for n in range(count):
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nodes-bench-")))
            nodes.append(stack.enter_context(running(f"node-{n + 1}", command, workdir, 60)))
        yield nodes


def measure(args: argparse.Namespace) -> list[Phase]:
    """Run the rounds: one node, then two nodes, each on an empty database."""
    payloads = build_payloads()
    databases = Databases(args.postgres, durable=not args.no_fsync)
    results: list[Phase] = []
    try:
        for _ in range(args.rounds):
            for count in (1, 2):
                with started(count, databases.new(), args) as nodes:
                    for payload in payloads:  # warm-up, not counted
                        run_async(drive(nodes, payload, args.warmup, args.connections, 60),
                                  client_loop_factory())  # fmt: skip
                    for payload in payloads:
                        results.append(phase(nodes, payload, args, databases.postmaster()))
    finally:
        databases.close()
    return results


def report(results: list[Phase], args: argparse.Namespace) -> None:
    """Print one row per phase, then the ratio of two nodes to one per size."""
    print(f"\n{args.messages} messages per phase over {args.connections} connections;"
          " CPU in % of one core")  # fmt: skip
    print(f"{'nodes':>5}{'size':>6}{'acked':>7}{'msg/s':>8}{'errors':>7}"
          f"{'node cpu':>16}{'postgres':>10}{'client':>8}")  # fmt: skip
    for r in results:
        nodes = " + ".join(f"{c / r.seconds:.0%}" for c in r.node_cpu)
        postgres = f"{r.postgres_cpu / r.seconds:.0%}" if r.postgres_cpu else "n/a"
        print(f"{r.nodes:>5}{r.size:>6}{r.tally.ok:>7}{r.rate:>8.0f}{r.tally.errors.total():>7}"
              f"{nodes:>16}{postgres:>10}{r.client_cpu / r.seconds:>8.0%}")  # fmt: skip
        if r.tally.errors:
            print(f"  errors: {top_errors_of(r)}")
    for size in dict.fromkeys(r.size for r in results):
        one = [r.rate for r in results if r.size == size and r.nodes == 1]
        two = [r.rate for r in results if r.size == size and r.nodes == 2]
        ratios = sorted(b / a for a, b in zip(one, two, strict=True) if a)
        rounds = f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})" if len(ratios) > 1 else ""
        if ratios:
            print(f"two nodes / one node at {size}: {statistics.median(ratios):.2f}{rounds}")


def top_errors_of(result: Phase) -> str:
    """Return the most common refusals of a phase."""
    holder = argparse.Namespace(tally=result.tally)
    return top_errors(holder)  # type: ignore[arg-type]


def benchmark(args: argparse.Namespace) -> None:
    """Run and report."""
    report(measure(args), args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=4000, help="measured messages per phase")
    p.add_argument("--rounds", type=int, default=1, help="rounds of one node, then two")
    p.add_argument("--connections", type=int, default=8, help="SMTP connections in all")
    p.add_argument("--warmup", type=int, default=100, help="unmeasured messages per size")
    p.add_argument("--time-cap", type=float, default=180.0, help="seconds per phase")
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server for the databases (default: a throwaway one)",
    )
    p.add_argument(
        "--no-fsync",
        action="store_true",
        help="start the throwaway cluster with fsync off (the tests' settings)",
    )
    add_mtl_arg(p)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_bench(benchmark, parse_args))

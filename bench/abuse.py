"""Abuse benchmark: attacks on a fresh mailtrap-lite, and what ordinary clients saw meanwhile.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/abuse.py                          # every attack, with its default counts
    python bench/abuse.py --only probes,auth       # some of them
    python bench/abuse.py --python OTHER/bin/python   # the same attacks on another build

Each attack gets a fresh server (``python -m mailtrap_lite --smtp 127.0.0.1:0 --http
127.0.0.1:0 --db TMP/abuse.db`` plus the attack's flags) and an observer: one thread sends an
ordinary message over a fresh SMTP connection every 0.1 s, another asks ``/api/v1/health`` or
the first page of ``/api/v1/messages`` every 0.1 s. The observer runs 2 s before the attack
(quiet) and then for as long as the attack runs; the report gives the p50/p99/max of each,
their errors, and whether any message acknowledged with 250 is missing afterwards (lost).

Attacks (every count is bounded; see --help):

- probes: connect-then-close probes (TCP health checks, ``nc -z``), then CLOSE-WAIT sockets
  left in the server and whether a new client is greeted or refused;
- descriptors: SMTP connections held open past 1,023 descriptors while the web is asked;
- auth: SMTP AUTH guesses over several connections, and HTTP basic-auth guesses from
  127.0.0.2 (the observer asks from 127.0.0.1), in guesses per second;
- the attacks of abuse_load.py: a slow search and delete, starved HTTP, a flood of NOOPs,
  concurrent views of header and line bombs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import re
import resource
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import BenchError, Server, add_mtl_arg, run_bench, running, stdout_value  # noqa: E402

UI_AUTH = ("ann", "pw")  # the --ui-auth of servers that need one; the observer knows it
QUIET_SECONDS = 2.0
INTERVAL = 0.1
TIMEOUT = 30.0
QUEUED = re.compile(rb"queued as (\d+)")
ATTACKER = "127.0.0.2"  # loopback too, but another client address than the observer's


@dataclass
class Target:
    """The running server an attack is aimed at."""

    server: Server
    url: str
    ui_auth: bool = False
    args: argparse.Namespace = field(default_factory=argparse.Namespace)

    @property
    def smtp(self) -> tuple[str, int]:
        return self.server.host, self.server.port

    def headers(self) -> dict[str, str]:
        """Return the observer's request headers (basic auth when the server wants it)."""
        if not self.ui_auth:
            return {}
        token = base64.b64encode(":".join(UI_AUTH).encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def get(self, path: str, timeout: float = TIMEOUT, source: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        """GET a path on the web server; (status, body)."""
        host_port = self.url.removeprefix("http://")
        source_address = (source, 0) if source else None
        conn = http.client.HTTPConnection(host_port, timeout=timeout,
                                          source_address=source_address)  # fmt: skip
        try:
            conn.request("GET", path, headers=self.headers() if headers is None else headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@dataclass
class Samples:
    """Latencies of one kind of ordinary request, and its errors by reason."""

    seconds: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if not self.seconds:
            return f"n=0, errors {dict(self.errors) or 0}"
        ordered = sorted(self.seconds)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"n={len(ordered)}, p50 {statistics.median(ordered) * 1000:.0f} ms,"
            f" p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms,"
            f" errors {dict(self.errors) or 0}"
        )


class Observer:
    """Ordinary SMTP and HTTP clients, each in a thread, timed until stop()."""

    def __init__(self, target: Target, tag: str) -> None:
        self.target, self.tag = target, tag
        self.smtp, self.http = Samples(), Samples()
        self.acknowledged: list[int] = []
        self._halt = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(step,), daemon=True)
                         for step in (self._send, self._ask)]  # fmt: skip
        self._count = 0

    def __enter__(self) -> Observer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        for thread in self._threads:
            thread.join(TIMEOUT + 5)

    def _loop(self, step: Callable[[], None]) -> None:
        while not self._halt.wait(INTERVAL):
            step()

    def _send(self) -> None:
        self._count += 1
        body = f"Subject: ordinary {self.tag} {self._count}\r\n\r\nhello\r\n".encode()
        started = time.monotonic()
        try:
            with smtplib.SMTP(*self.target.smtp, timeout=TIMEOUT) as client:
                client.ehlo()
                client.mail("observer@example.com")
                client.rcpt("dev@example.com")
                code, reply = client.data(body)
        except (OSError, smtplib.SMTPException) as error:
            self.smtp.errors[type(error).__name__] += 1
            return
        if code != 250:
            self.smtp.errors[str(code)] += 1
            return
        self.smtp.seconds.append(time.monotonic() - started)
        if match := QUEUED.search(reply):
            self.acknowledged.append(int(match.group(1)))

    def _ask(self) -> None:
        path = "/api/v1/health" if self._count % 2 else "/api/v1/messages?limit=10"
        started = time.monotonic()
        try:
            status, _ = self.target.get(path)
        except (OSError, http.client.HTTPException) as error:
            self.http.errors[type(error).__name__] += 1
            return
        if status != 200:
            self.http.errors[str(status)] += 1
            return
        self.http.seconds.append(time.monotonic() - started)


def lost(target: Target, ids: list[int]) -> str:
    """Say how many acknowledged messages the server no longer has (or why it cannot tell)."""
    if target.server.proc.poll() is not None:
        return f"unknown: the server exited with status {target.server.proc.returncode}"
    missing = 0
    try:
        for message_id in ids:
            status, _ = target.get(f"/api/v1/messages/{message_id}")
            missing += status != 200
    except (OSError, http.client.HTTPException) as error:
        return f"unknown: its web server no longer answers ({type(error).__name__})"
    return f"{missing} of {len(ids)} acknowledged messages"


# -- the attacks of this module --------------------------------------------------------------


def close_wait(pid: int) -> int:
    """Count the process's sockets in CLOSE-WAIT (state 08 in /proc/net/tcp)."""
    inodes = {link.readlink().name[8:-1] for link in Path(f"/proc/{pid}/fd").iterdir()
              if _is_socket(link)}  # fmt: skip
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            columns = row.split()
            count += columns[3] == "08" and columns[9] in inodes
    return count


def _is_socket(link: Path) -> bool:
    with contextlib.suppress(OSError):
        return link.readlink().name.startswith("socket:[")
    return False


def greeting(target: Target) -> str:
    with socket.create_connection(target.smtp, timeout=TIMEOUT) as connection:
        return connection.recv(512).decode(errors="replace").strip()


def attack_probes(target: Target) -> list[str]:
    started = time.monotonic()
    for _ in range(target.args.probes):
        socket.create_connection(target.smtp, timeout=TIMEOUT).close()
    seconds = time.monotonic() - started
    first = greeting(target)  # every probe before it has been accepted now
    time.sleep(2.0)  # what is left after that is left for good
    return [
        f"{target.args.probes} connect-close probes in {seconds:.1f} s",
        f"right after: a new client got {first[:40]!r}",
        f"2 s later: {close_wait(target.server.pid)} sockets in CLOSE-WAIT,"
        f" a new client got {greeting(target)[:40]!r}",
    ]


def attack_descriptors(target: Target) -> list[str]:
    held: list[socket.socket] = []
    try:
        for _ in range(target.args.held):
            connection = socket.create_connection(target.smtp, timeout=TIMEOUT)
            held.append(connection)
            connection.recv(512)
        fds = len(list(Path(f"/proc/{target.server.pid}/fd").iterdir()))
        statuses = Counter(_status(target) for _ in range(20))
        time.sleep(1.0)
        alive = target.server.proc.poll() is None
    finally:
        for connection in held:
            connection.close()
    return [
        f"{len(held)} SMTP connections held; the server had {fds} descriptors open",
        f"20 web requests meanwhile: {dict(statuses)}; server process alive: {alive}",
    ]


def _status(target: Target) -> str:
    try:
        return str(target.get("/api/v1/health", timeout=10)[0])
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__


def attack_auth(target: Target) -> list[str]:
    return [_guess_smtp(target), _guess_http(target)]


def _guess_smtp(target: Target) -> str:
    budget, cap = target.args.guesses, time.monotonic() + target.args.guess_seconds
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def guesser() -> None:
        while time.monotonic() < cap:
            with lock:
                if sum(counts.values()) >= budget:
                    return
            with contextlib.suppress(OSError, smtplib.SMTPException):
                with smtplib.SMTP(*target.smtp, timeout=TIMEOUT) as client:
                    client.ehlo()
                    while time.monotonic() < cap and sum(counts.values()) < budget:
                        token = base64.b64encode(b"\0app\0guess").decode()
                        code, _ = client.docmd("AUTH", f"PLAIN {token}")
                        with lock:
                            counts[str(code)] += 1
                        if code == 421:
                            break

    started = time.monotonic()
    threads = [threading.Thread(target=guesser) for _ in range(target.args.guess_connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    total = sum(counts.values())
    return (f"SMTP AUTH: {total} guesses over {target.args.guess_connections} connections in"
            f" {seconds:.1f} s = {total / seconds:.0f}/s; replies {dict(counts)}")  # fmt: skip


def _guess_http(target: Target) -> str:
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ann:guess").decode()}
    counts: Counter[int] = Counter()
    started = time.monotonic()
    for _ in range(target.args.http_guesses):
        counts[target.get("/api/v1/messages", source=ATTACKER, headers=wrong)[0]] += 1
    seconds = time.monotonic() - started
    tried, refused = counts[401], counts[429]
    return (
        f"HTTP basic auth from {ATTACKER}: {sum(counts.values())} requests in {seconds:.1f} s;"
        f" {tried} passwords tried ({tried / seconds:.0f}/s), {refused} refused unread (429);"
        f" statuses {dict(counts)}"
    )


@dataclass(frozen=True)
class Attack:
    """One attack: what it does to a server started with `flags`."""

    run: Callable[[Target], list[str]]
    flags: tuple[str, ...] = ()
    ui_auth: bool = False
    prepare: Callable[[Target], None] | None = None  # before the quiet period


ATTACKS: dict[str, Attack] = {
    "probes": Attack(attack_probes),
    "descriptors": Attack(attack_descriptors, ("--max-connections", "0")),
    "auth": Attack(
        attack_auth, ("--auth", "app:secret", "--ui-auth", ":".join(UI_AUTH)), ui_auth=True
    ),  # fmt: skip
}


# -- running them ----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_server(attack: Attack, args: argparse.Namespace) -> Iterator[Target]:
    """Start a fresh server for one attack in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="abuse-bench-") as folder:
        workdir = Path(folder)
        command = [args.python, "-P", "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http",
                   "127.0.0.1:0", "--db", str(workdir / "abuse.db"), *attack.flags,
                   *args.mtl_arg]  # fmt: skip
        with running("mailtrap-lite", command, workdir, 30.0) as server:
            url = stdout_value(server, "http")
            if url is None:
                raise BenchError("the server printed no 'http: URL' line")
            yield Target(server, url, attack.ui_auth, args)


def run_attack(name: str, attack: Attack, args: argparse.Namespace) -> None:
    print(f"\n== {name}", flush=True)
    with fresh_server(attack, args) as target:
        if attack.prepare is not None:
            attack.prepare(target)
        with Observer(target, "quiet") as quiet:
            time.sleep(QUIET_SECONDS)
        with Observer(target, name) as during:
            lines = attack.run(target)
        missing = lost(target, quiet.acknowledged + during.acknowledged)
    for line in lines:
        print(f"  {line}")
    print(f"  ordinary SMTP, quiet:  {quiet.smtp.summary()}")
    print(f"  ordinary SMTP, attack: {during.smtp.summary()}")
    print(f"  ordinary HTTP, quiet:  {quiet.http.summary()}")
    print(f"  ordinary HTTP, attack: {during.http.summary()}")
    print(f"  lost: {missing}", flush=True)


def all_attacks() -> dict[str, Attack]:
    """Return this module's attacks, then those of abuse_load.py."""
    from abuse_load import LOAD_ATTACKS  # it imports this module

    return {**ATTACKS, **LOAD_ATTACKS}


def benchmark(args: argparse.Namespace) -> None:
    attacks = all_attacks()
    chosen = args.only.split(",") if args.only else list(attacks)
    unknown = [name for name in chosen if name not in attacks]
    if unknown:
        raise BenchError(f"unknown attack(s) {unknown}; known: {', '.join(attacks)}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the descriptor attack needs some
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 3 * args.held)), hard))
    print(f"server: {args.python} -m mailtrap_lite {' '.join(args.mtl_arg)}".rstrip())
    for name in chosen:
        run_attack(name, attacks[name], args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated attacks to run (default: all)")
    p.add_argument("--python", default=sys.executable, help="the interpreter that runs the server")
    p.add_argument("--probes", type=int, default=3600, help="connect-close probes")
    p.add_argument("--held", type=int, default=1100, help="SMTP connections held open")
    p.add_argument("--guesses", type=int, default=20_000, help="SMTP AUTH guesses at most")
    p.add_argument("--guess-seconds", type=float, default=10.0, help="SMTP guessing time cap")
    p.add_argument("--guess-connections", type=int, default=8, help="SMTP guessing connections")
    p.add_argument("--http-guesses", type=int, default=300, help="HTTP basic-auth requests")
    from abuse_load import add_load_args  # it imports this module

    add_load_args(p)
    add_mtl_arg(p)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_bench(benchmark, parse_args))

"""Ingest benchmark: SMTP messages per second into mailtrap-lite, next to bare aiosmtpd.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/ingest.py                         # both targets, 4000 messages per size
    python bench/ingest.py --only baseline         # bare aiosmtpd only
    python bench/ingest.py --uvloop                # the baseline on uvloop (like with like)
    python bench/ingest.py --rounds 5              # five alternating rounds, median ratio
    python bench/ingest.py --rss 100000            # then memory and disk after 100k messages
    python bench/ingest.py --mtl-arg=--max-messages=0   # extra flags for mailtrap-lite
    python bench/ingest.py --postgres postgresql://u@host/db   # also mailtrap-lite on PostgreSQL

What it measures: a fixed number of messages sent over 8 persistent SMTP connections
(``--connections``; EHLO
once, then MAIL FROM / RCPT TO / DATA / message per transaction, each reply read and checked),
once with ~1 KB plain-text messages and once with ~20 KB multipart messages (text, html and a
base64 attachment). Two targets, each started here as its own subprocess and loaded one
after the other so they do not compete for the CPU; with ``--rounds N`` they take turns N
times (who goes first alternates) and the ratio is the median of the rounds', which is
steadier on a shared machine:

- baseline: aiosmtpd's SMTP with a handler that only appends the data to a list; the floor
  cost of SMTP in Python (``python bench/ingest.py --serve-baseline`` runs it).
- mailtrap-lite: ``python -m mailtrap_lite --smtp 127.0.0.1:0 --http off --db TMP/bench.db``.
- mailtrap-lite-pg (with ``--postgres URL``): the same with ``--db URL``, an empty database;
  its rate is also given as a ratio to mailtrap-lite on SQLite measured in the same run.

Each target gets a warm-up (not counted); the sessions are opened before the clock starts.
The table shows acknowledged messages, seconds, msg/s, failed transactions and the CPU used
by the server and by this client (100 % = one core), then mailtrap-lite / baseline per size.
With ``--rss N`` a fresh mailtrap-lite then receives N 1 KB messages and its peak and current
RSS and database size are reported. The client is a lean raw-socket asyncio client (on uvloop
when installed) so that it costs less CPU than the servers it measures.

Values of ``--mtl-arg`` start with "--", so write them with "=": ``--mtl-arg=--max-messages=0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.policy
import email.utils
import ipaddress
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
MAIL_FROM = "alice@example.com"
RCPT_TO = "bob@example.org"
PLACEHOLDER = "MESSAGE-SEQUENCE-NUMBER"
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
CommandBuilder = Callable[[argparse.Namespace, Path], list[str]]


class BenchError(Exception):
    """A reason to stop the benchmark; the message is shown to the user as is."""


# --- the messages ---------------------------------------------------------------------------

SENTENCES = [
    "Thanks for your order, we are getting it ready to ship.",
    "Your parcel will leave our warehouse within two working days.",
    "You can follow the delivery from your account page at any time.",
    "If anything is missing, reply to this message and we will sort it out.",
    "The invoice for this order is attached to this message as a PDF file.",
    "Returns are free within thirty days of delivery, no questions asked.",
]


@dataclass(frozen=True)
class Payload:
    """One message template; each transaction gets its own Message-ID."""

    label: str
    prefix: bytes  # everything before the sequence number, already dot-stuffed
    suffix: bytes  # everything after it, dot-stuffed, ending with the CRLF.CRLF terminator

    def render(self, seq: int) -> bytes:
        """Return the DATA bytes of message number ``seq``."""
        return self.prefix + str(seq).encode() + self.suffix

    def size(self) -> int:
        """Return the size in bytes of a typical message, without the terminator."""
        return len(self.render(1000)) - len(b".\r\n")


def filler(nbytes: int) -> str:
    """Return about ``nbytes`` of plain English text wrapped at 72 columns."""
    words: list[str] = []
    length = 0
    while length < nbytes:
        sentence = SENTENCES[len(words) % len(SENTENCES)]
        words.append(sentence)
        length += len(sentence) + 1
    return textwrap.fill(" ".join(words), width=72) + "\n"


def new_message(subject: str, run_tag: str) -> EmailMessage:
    """Return a message with the headers every real message has."""
    msg = EmailMessage()
    msg["From"] = f"Alice Example <{MAIL_FROM}>"
    msg["To"] = f"Bob Example <{RCPT_TO}>"
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = f"<{run_tag}.{PLACEHOLDER}@bench.example>"
    return msg


def plain_message(body_bytes: int, run_tag: str) -> bytes:
    """Return a single-part text/plain message with a body of about ``body_bytes``."""
    msg = new_message("Your order #1042 has shipped", run_tag)
    msg.set_content(filler(body_bytes))
    return msg.as_bytes(policy=email.policy.SMTP)


def multipart_message(body_bytes: int, run_tag: str) -> bytes:
    """Return text + html alternatives and a small PDF attachment, about ``body_bytes``."""
    msg = new_message("Invoice for order #1042", run_tag)
    msg.set_content(filler(body_bytes // 3))
    msg.add_alternative(html_page(body_bytes // 2), subtype="html")
    # Fixed pseudo-random bytes: base64 of real binary data, identical on every run.
    pdf = random.Random(1042).randbytes(2048)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice-1042.pdf")
    return msg.as_bytes(policy=email.policy.SMTP)


def html_page(nbytes: int) -> str:
    """Return an HTML page of about ``nbytes`` with paragraphs and a link."""
    paragraph = f"<p>\n{filler(400)}</p>\n"
    link = '<p><a href="https://shop.example.com/orders/1042">Your order</a></p>\n'
    body = link + paragraph * max(nbytes // len(paragraph), 1)
    return f"<html>\n<head><title>Invoice</title></head>\n<body>\n{body}</body>\n</html>\n"


def fit(build: Callable[[int], bytes], target: int) -> bytes:
    """Call ``build`` with a body size adjusted until the message is about ``target`` bytes."""
    body = target
    data = build(body)
    for _ in range(4):
        body += target - len(data)
        data = build(max(body, 0))
    return data


def make_payload(label: str, data: bytes) -> Payload:
    """Split a message at its Message-ID placeholder and prepare it for the DATA phase."""
    prefix, suffix = data.split(PLACEHOLDER.encode())
    if not suffix.endswith(b"\r\n"):
        suffix += b"\r\n"
    return Payload(label, dot_stuff(prefix), dot_stuff(suffix) + b".\r\n")


def dot_stuff(data: bytes) -> bytes:
    """Double a leading dot on each line, as SMTP requires (RFC 5321 4.5.2)."""
    return re.sub(rb"(?m)^\.", b"..", data)


def build_payloads() -> list[Payload]:
    """Return the 1 KB and 20 KB messages."""
    run_tag = f"{int(time.time())}.{os.getpid()}"
    return [
        make_payload("1KB", fit(lambda n: plain_message(n, run_tag), 1024)),
        make_payload("20KB", fit(lambda n: multipart_message(n, run_tag), 20 * 1024)),
    ]


# --- the baseline server (runs in its own process) ------------------------------------------


class ListHandler:
    """Keeps each message in a list: the least work an aiosmtpd handler can do."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


async def serve_baseline_async() -> None:
    """Serve the baseline on a free port of 127.0.0.1 until SIGTERM or SIGINT."""
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    handler = ListHandler()
    # hostname= so that aiosmtpd never calls socket.getfqdn(), which can take seconds.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bench", enable_SMTPUTF8=True), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"smtp: 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


def serve_baseline(use_uvloop: bool) -> None:
    """Entry point of ``--serve-baseline``."""
    run_async(serve_baseline_async(), loop_factory(use_uvloop))


# --- event loops ----------------------------------------------------------------------------


def loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop factory, or None for the standard loop."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError as exc:
        raise BenchError("--uvloop needs uvloop: pip install uvloop") from exc
    return uvloop.new_event_loop


def client_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Use uvloop for the client when installed: a cheaper client disturbs the servers less."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_async(
    coro: Coroutine[Any, Any, T], factory: Callable[[], asyncio.AbstractEventLoop] | None
) -> T:
    """Run ``coro`` to completion on a new loop made by ``factory``."""
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


# --- the SMTP client ------------------------------------------------------------------------

MAIL = f"MAIL FROM:<{MAIL_FROM}>\r\n".encode()
RCPT = f"RCPT TO:<{RCPT_TO}>\r\n".encode()
DATA = b"DATA\r\n"
OK_CLASSES = (b"2", b"3")


@dataclass
class Tally:
    """Outcome counters shared by the connections of one run."""

    left: int  # messages not yet handed to a connection
    taken: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def take(self) -> int | None:
        """Hand out the sequence number of the next message, or None when all are taken."""
        if self.left <= 0:
            return None
        self.left -= 1
        self.taken += 1
        return self.taken

    def fail(self, reason: str) -> None:
        """Count one message that was not accepted, grouped by reason."""
        self.errors[reason] += 1


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    """Return the last line of one (possibly multi-line) SMTP reply."""
    while True:
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise ConnectionError("connection closed by the server")
        if line[3:4] != b"-":
            return line


async def expect(reader: asyncio.StreamReader, code: bytes, what: str) -> None:
    """Read a reply and stop the benchmark unless it has ``code``."""
    line = await read_reply(reader)
    if not line.startswith(code):
        raise BenchError(f"{what}: expected {code.decode()}, got {line.decode().strip()!r}")


async def open_session(host: str, port: int) -> Connection:
    """Connect, read the greeting and say EHLO once."""
    reader, writer = await asyncio.open_connection(host, port)
    await expect(reader, b"220", "greeting")
    writer.write(b"EHLO bench.client.example\r\n")
    await expect(reader, b"250", "EHLO")
    return reader, writer


async def transaction(conn: Connection, message: bytes) -> str | None:
    """Send one message; return None if accepted, else the reply that refused it."""
    reader, writer = conn
    for command in (MAIL, RCPT, DATA):
        writer.write(command)
        line = await read_reply(reader)
        if line[:1] not in OK_CLASSES:
            return line.decode(errors="replace").strip()
    writer.write(message)
    await writer.drain()  # a 20 KB message can fill the transport's buffer
    line = await read_reply(reader)
    return None if line[:1] in OK_CLASSES else line.decode(errors="replace").strip()


async def reset(conn: Connection) -> None:
    """Abort a refused transaction so the next one starts clean."""
    reader, writer = conn
    writer.write(b"RSET\r\n")
    await read_reply(reader)


async def sender(conn: Connection, payload: Payload, tally: Tally) -> None:
    """Send messages over one connection until none are left."""
    while (seq := tally.take()) is not None:
        try:
            refusal = await transaction(conn, payload.render(seq))
            if refusal is None:
                tally.ok += 1
                continue
            tally.fail(refusal)
            await reset(conn)
        # RuntimeError: uvloop's answer to a write on a transport the server has closed.
        except (ConnectionError, asyncio.IncompleteReadError, RuntimeError) as exc:
            tally.fail(f"connection lost: {exc}")
            return


async def close_session(conn: Connection, polite: bool) -> None:
    """Say QUIT (if ``polite``) and close, without caring whether the server still answers."""
    reader, writer = conn
    if polite and not writer.is_closing():
        # RuntimeError: uvloop refuses writes on a transport the server has just closed.
        with contextlib.suppress(OSError, ConnectionError, TimeoutError, RuntimeError):
            writer.write(b"QUIT\r\n")
            async with asyncio.timeout(2):
                await read_reply(reader)
    writer.close()
    with contextlib.suppress(OSError, ConnectionError):
        await writer.wait_closed()


# --- one measured run -----------------------------------------------------------------------


@dataclass
class RunResult:
    """What one run of ``count`` messages at one size produced."""

    target: str
    size: str
    tally: Tally
    seconds: float
    client_cpu: float
    server_cpu: float
    timed_out: bool

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return self.tally.ok / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Server:
    """A target server running as a subprocess of this benchmark."""

    name: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    host: str = ""
    port: int = 0

    @property
    def pid(self) -> int:
        """The process id, which is the server itself (no shell in between)."""
        return self.proc.pid


async def send_all(
    server: Server, payload: Payload, count: int, connections: int, cap: float
) -> RunResult:
    """Send ``count`` messages over ``connections`` sessions within ``cap`` seconds."""
    async with asyncio.timeout(30):  # a server that never greets must not hang the run
        conns = await asyncio.gather(
            *(open_session(server.host, server.port) for _ in range(connections))
        )
    tally = Tally(left=count)
    cpu, server_cpu, start = time.process_time(), cpu_seconds(server.pid), time.perf_counter()
    timed_out = False
    try:
        async with asyncio.timeout(cap):
            await asyncio.gather(*(sender(conn, payload, tally) for conn in conns))
    except TimeoutError:
        timed_out = True
    seconds = time.perf_counter() - start
    client_cpu, server_cpu = time.process_time() - cpu, cpu_seconds(server.pid) - server_cpu
    # After a timeout a session may be in the middle of DATA, where QUIT would be message text.
    await asyncio.gather(*(close_session(conn, polite=not timed_out) for conn in conns))
    return RunResult(server.name, payload.label, tally, seconds, client_cpu, server_cpu, timed_out)


def load(server: Server, payload: Payload, count: int, args: argparse.Namespace) -> RunResult:
    """Run one load phase against ``server`` on a fresh client event loop."""
    coro = send_all(server, payload, count, args.connections, args.time_cap)
    try:
        return run_async(coro, client_loop_factory())
    except OSError as exc:
        where = f"{server.host}:{server.port}"
        raise BenchError(f"{server.name}: cannot connect to {where}: {exc!r}") from exc


# --- /proc: CPU, memory and who owns a socket -----------------------------------------------


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds used so far by process ``pid`` (all threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmHWM (peak RSS) and VmRSS of process ``pid`` in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0])
    return found


def decode_proc_address(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """Decode "0100007F:1F90" from /proc/net/tcp{,6} into (address, port)."""
    hex_ip, _, hex_port = text.partition(":")
    raw = bytes.fromhex(hex_ip)
    # The kernel prints each 32-bit word of the address in host byte order.
    step = -1 if sys.byteorder == "little" else 1
    words = b"".join(raw[i : i + 4][::step] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words), int(hex_port, 16)


def listening_inodes(host: str, port: int) -> set[str]:
    """Return the inodes of the sockets listening on host:port."""
    wanted = (ipaddress.ip_address(host), port)
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and decode_proc_address(cols[1]) == wanted:  # 0A = LISTEN
                    inodes.add(cols[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """Return the inodes of the sockets that process ``pid`` has open."""
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # an fd may close while we look
            link = os.readlink(fd)
            if link.startswith("socket:["):
                inodes.add(link[len("socket:[") : -1])
    return inodes


def check_owner(server: Server) -> None:
    """Stop unless the listener on the announced port is the process we started."""
    listeners = listening_inodes(server.host, server.port)
    if not listeners:
        raise BenchError(f"{server.name}: nothing listens on {server.host}:{server.port}")
    if not listeners <= socket_inodes(server.pid):
        raise BenchError(
            f"{server.name}: the listener on {server.host}:{server.port} belongs to another"
            f" process, not to pid {server.pid}; not measuring someone else's server"
        )


# --- starting and stopping the targets ------------------------------------------------------


def baseline_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Return the command line of the baseline server."""
    flags = ["--uvloop"] if args.uvloop else []
    return [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", *flags]


def mailtrap_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Return the command line of mailtrap-lite with a database in ``workdir``."""
    base = ["-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off"]
    return [sys.executable, *base, "--db", str(workdir / "bench.db"), *args.mtl_arg]


def postgres_command(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Return the command line of mailtrap-lite on the PostgreSQL database of ``--postgres``."""
    base = ["-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off"]
    return [sys.executable, *base, "--db", args.postgres, *args.mtl_arg]


def tail(path: Path, lines: int = 15) -> str:
    """Return the last lines of a log file, indented, for error messages."""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def stdout_value(server: Server, key: str) -> str | None:
    """Return the value of the first "key: value" line the server printed, if any."""
    match = re.search(rf"^{key}: (.+?)\s*$", server.stdout.read_text(errors="replace"), re.M)
    return match.group(1) if match else None


def wait_for_address(server: Server, timeout: float) -> None:
    """Wait until the server prints "smtp: HOST:PORT" and remember that address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        address = stdout_value(server, "smtp")
        if address:
            host, _, port = address.rpartition(":")
            server.host, server.port = host.strip("[]"), int(port)
            return
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with status {server.proc.returncode} before printing"
                f" 'smtp: HOST:PORT'; its stderr ends with:\n{tail(server.stderr)}"
            )
        time.sleep(0.05)
    raise BenchError(f"{server.name} printed no 'smtp: HOST:PORT' line within {timeout:.0f} s")


def stop(server: Server, timeout: float = 10.0) -> None:
    """SIGTERM the server, kill it if it lingers, and say so if it did not exit cleanly."""
    if server.proc.poll() is not None:
        print(f"note: {server.name} had already exited with status {server.proc.returncode}")
        return
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
        print(f"note: {server.name} ignored SIGTERM for {timeout:.0f} s and was killed")
        return
    if server.proc.returncode != 0:
        print(f"note: {server.name} exited with status {server.proc.returncode} on SIGTERM")


@contextlib.contextmanager
def running(name: str, command: list[str], workdir: Path, timeout: float) -> Iterator[Server]:
    """Start a target, check that it owns its port, and always stop it afterwards."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # so "smtp: ..." shows up without a flush
    out, err = workdir / "stdout.log", workdir / "stderr.log"
    # Logs go to files, not pipes: a chatty server can never block on a full pipe.
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out_file, stderr=err_file)
    server = Server(name, proc, out, err)
    try:
        wait_for_address(server, timeout)
        check_owner(server)
        yield server
    finally:
        stop(server)


# --- the benchmark --------------------------------------------------------------------------


def warm_up(server: Server, payloads: list[Payload], args: argparse.Namespace) -> None:
    """Send a few messages of each size first, so imports and caches are not measured."""
    for payload in payloads:
        result = load(server, payload, max(args.warmup // len(payloads), 1), args)
        if result.tally.ok == 0:
            raise BenchError(f"{server.name} accepted no warm-up message: {top_errors(result)}")


def start_target(
    stack: contextlib.ExitStack, name: str, command_of: CommandBuilder, args: argparse.Namespace
) -> Server:
    """Start one target in its own temporary directory, kept until ``stack`` closes."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ingest-bench-")))
    server = stack.enter_context(running(name, command_of(args, workdir), workdir,
                                         args.start_timeout))  # fmt: skip
    print(f"{name}: pid {server.pid}, smtp {server.host}:{server.port}", flush=True)
    return server


def measure(
    servers: list[Server], payloads: list[Payload], args: argparse.Namespace
) -> list[RunResult]:
    """Run ``--rounds`` rounds; in each, every target takes each size in turn.

    Targets alternate who goes first from round to round, so that a slow spell of a shared
    machine does not always land on the same one; an idle target costs no CPU.
    """
    results: list[RunResult] = []
    for number in range(args.rounds):
        order = servers if number % 2 == 0 else servers[::-1]
        for payload in payloads:
            results += [load(server, payload, args.messages, args) for server in order]
    return results


def measure_memory(payload: Payload, args: argparse.Namespace) -> None:
    """Send ``--rss`` messages to a fresh mailtrap-lite and report its memory and disk use."""
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        workdir = Path(tmp)
        command = mailtrap_command(args, workdir)
        with running("mailtrap-lite", command, workdir, args.start_timeout) as server:
            idle = memory_kib(server.pid)["VmRSS"]
            bounded = argparse.Namespace(**{**vars(args), "time_cap": args.rss_time_cap})
            result = load(server, payload, args.rss, bounded)
            memory = memory_kib(server.pid)
            db = Path(stdout_value(server, "db") or workdir / "bench.db")
            print_memory(result, idle, memory, db)


def top_errors(result: RunResult, limit: int = 3) -> str:
    """Return the most common refusals of a run, for the notes under the table."""
    return "; ".join(f"{n} x {reason}" for reason, n in result.tally.errors.most_common(limit))


def print_table(results: list[RunResult]) -> None:
    """Print one row per run, then notes about errors and runs cut short."""
    head = f"{'target':<16}{'size':>6}{'messages':>10}{'seconds':>9}{'msg/s':>9}{'errors':>8}"
    print(f"\n{head}{'server cpu':>12}{'client cpu':>12}")
    for r in results:
        cpu = f"{r.server_cpu / r.seconds:>11.0%} {r.client_cpu / r.seconds:>11.0%}"
        errors = r.tally.errors.total()
        print(
            f"{r.target:<16}{r.size:>6}{r.tally.ok:>10}{r.seconds:>9.2f}{r.rate:>9.0f}"
            f"{errors:>8}{cpu}"
        )
    for r in results:
        if r.tally.errors:
            print(f"  {r.target} {r.size}: {top_errors(r)}")
        if r.timed_out:
            print(f"  {r.target} {r.size}: stopped by --time-cap after {r.tally.taken} messages")


def print_ratios(results: list[RunResult]) -> None:
    """Print mailtrap-lite's rate as a fraction of the baseline's per size (median of rounds)."""
    rates: dict[tuple[str, str], list[float]] = {}
    for r in results:
        rates.setdefault((r.target.split("+")[0], r.size), []).append(r.rate)
    base_name = next((r.target for r in results if r.target.startswith("baseline")), "baseline")
    pairs = [("mailtrap-lite", "baseline", base_name), ("mailtrap-lite-pg", "baseline", base_name),
             ("mailtrap-lite-pg", "mailtrap-lite", "mailtrap-lite (SQLite)")]  # fmt: skip
    for target, other, other_name in pairs:
        for (name, size), ours in rates.items():
            theirs = rates.get((other, size))
            if name != target or not theirs:
                continue
            ratios = sorted(a / b for a, b in zip(ours, theirs, strict=True) if b)
            if not ratios:
                continue
            spread = (
                f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})" if len(ratios) > 1 else ""
            )
            print(f"{target} / {other_name} at {size}: {statistics.median(ratios):.2f}{spread}")


def megabytes(nbytes: float) -> str:
    """Format a size in MiB."""
    return f"{nbytes / 1024 / 1024:.1f} MB"


def print_memory(result: RunResult, idle_kib: int, memory: dict[str, int], db: Path) -> None:
    """Print the outcome of the ``--rss`` run."""
    print(
        f"\nmemory: {result.tally.ok} x {result.size} into mailtrap-lite in"
        f" {result.seconds:.1f} s ({result.rate:.0f} msg/s, {result.tally.errors.total()} errors)"
    )
    if result.timed_out:
        print(f"  stopped by --rss-time-cap after {result.tally.taken} messages")
    print(f"  RSS at start       {megabytes(idle_kib * 1024)}")
    print(f"  peak RSS (VmHWM)   {megabytes(memory['VmHWM'] * 1024)}")
    print(f"  current RSS        {megabytes(memory['VmRSS'] * 1024)}")
    print(f"  database           {database_size(db)}")


def database_size(db: Path) -> str:
    """Describe the size of the SQLite file and its write-ahead log."""
    if not db.exists():
        return f"not found at {db}"
    wal = Path(f"{db}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    return f"{megabytes(db.stat().st_size)} (+ WAL {megabytes(wal_size)})"


def targets(args: argparse.Namespace) -> list[tuple[str, CommandBuilder]]:
    """Return the (name, command builder) pairs selected by ``--only``."""
    baseline = "baseline+uvloop" if args.uvloop else "baseline"
    chosen = [(baseline, baseline_command), ("mailtrap-lite", mailtrap_command)]
    if args.postgres:
        chosen.append(("mailtrap-lite-pg", postgres_command))
    return [t for t in chosen if args.only in (None, t[0].split("+")[0])]


def benchmark(args: argparse.Namespace) -> None:
    """Run every selected target, print the table, then the optional memory run."""
    payloads = build_payloads()
    sizes = ", ".join(f"{p.label} = {p.size()} bytes" for p in payloads)
    loop = "uvloop" if client_loop_factory() else "asyncio"
    print(f"messages: {sizes}; {args.connections} connections; client loop: {loop}")
    with contextlib.ExitStack() as stack:
        servers = [
            start_target(stack, name, command_of, args) for name, command_of in targets(args)
        ]
        for server in servers:
            warm_up(server, payloads, args)
        results = measure(servers, payloads, args)
    print_table(results)
    print_ratios(results)
    if args.rss and args.only == "baseline":
        print("note: --rss measures mailtrap-lite, so --only baseline skips it")
    elif args.rss:
        measure_memory(payloads[0], args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=4000, help="measured messages per size")
    p.add_argument("--rounds", type=int, default=1, help="measured rounds, targets alternating")
    p.add_argument("--connections", type=int, default=8, help="persistent SMTP connections")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured messages per target")
    p.add_argument("--time-cap", type=float, default=120.0, help="seconds per measured run")
    p.add_argument("--only", choices=["baseline", "mailtrap-lite", "mailtrap-lite-pg"],
                   help="run one target")  # fmt: skip
    p.add_argument("--postgres", metavar="URL",
                   help="also run mailtrap-lite on this (empty) PostgreSQL database")  # fmt: skip
    p.add_argument("--uvloop", action="store_true", help="run the baseline on uvloop")
    p.add_argument(
        "--mtl-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra mailtrap-lite argument (repeatable; write --mtl-arg=--flag=value)",
    )
    p.add_argument(
        "--rss",
        type=int,
        default=0,
        metavar="N",
        help="then send N 1 KB messages to a fresh mailtrap-lite, report memory",
    )
    p.add_argument("--rss-time-cap", type=float, default=600.0, help="seconds for --rss")
    p.add_argument("--start-timeout", type=float, default=30.0, help="seconds to start a target")
    p.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--serve-baseline``, the baseline server)."""
    args = parse_args(argv)
    try:
        if args.serve_baseline:
            serve_baseline(args.uvloop)
        else:
            benchmark(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def run_bench(
    run: Callable[[argparse.Namespace], None],
    parse: Callable[[list[str] | None], argparse.Namespace],
    argv: list[str] | None = None,
) -> int:
    """Parse the arguments and run a benchmark; a BenchError is one line on stderr, status 1."""
    try:
        run(parse(argv))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def add_mtl_arg(p: argparse.ArgumentParser) -> None:
    """Add --mtl-arg: extra mailtrap-lite arguments, passed through (repeatable)."""
    p.add_argument("--mtl-arg", action="append", default=[], metavar="ARG",
                   help="extra mailtrap-lite argument (write --mtl-arg=--flag=value)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

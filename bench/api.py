"""API benchmark: list, search and wait latency of mailtrap-lite holding 100,000 messages.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/api.py                       # 100,000 messages in a temporary database
    python bench/api.py --messages 20000      # fewer
    python bench/api.py --db /tmp/bench.db    # build once (if missing), reuse afterwards
    python bench/api.py --db postgresql://u@host/db   # the same on PostgreSQL (an empty
                                              # database is filled, a filled one reused)
    python bench/api.py --stored /tmp/stored.db --db /tmp/bench.db --index-only
        # time the indexing alone: /tmp/stored.db holds the messages stored but not indexed
        # (built once if missing); --db is made anew as a copy of it and indexed

What it does:
1. Fills a database through the Store API (no SMTP, so it is quick): realistic messages from
   a pool of senders and recipients, subjects from templates, bodies of a few sentences
   (English, some German with non-ASCII), one in ten multipart with HTML and a PDF, stored
   in transactions of STORE_BATCH (messages built on every core). The bodies are then indexed
   as the server's indexer does (index_one on every core, Store.save_index), and timed.
2. Starts ``python -m mailtrap_lite --db DB --smtp 127.0.0.1:0 --http 127.0.0.1:0
   --max-messages 0`` as a subprocess and talks to it over HTTP keep-alive connections.
3. Measures the first page of /api/v1/messages, three searches (a word, to:, a phrase) and
   five more of the language's later forms (OR, a domain, a glob, filename:, a folded word)
   (each one's first ask apart: a search's total is kept, so only the first counts every
   match; later ones count the mail past it), and
   the wake-up latency: a client blocks in /api/v1/wait?after=<newest id>, another sends one
   message over SMTP, and the time from the 250 reply (smtplib's return) to the wait's
   response is recorded (it can be negative: the store wakes waiters on commit, just before
   the 250 is written). Then the server's RSS (VmRSS and peak VmHWM).
Medians and 95th percentiles in milliseconds. Targets (issue 4): list <= 20 ms, search
<= 50 ms, wake-up <= 10 ms, RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import Delivery, IndexUpdate, Store
from mailtrap_lite.store.indexer import index_one
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.store.sqlite import SQLiteStore

REPO_ROOT = Path(__file__).resolve().parent.parent
FIRST = ["anna", "ben", "carla", "dev", "emma", "felix", "grace", "hugo", "ines", "jonas",
         "kim", "leo", "maria", "nils", "olga", "paul", "rosa", "sven", "tara", "umar"]  # fmt: skip
DOMAINS = ["example.com", "example.org", "shop.example", "mail.example.net", "corp.example"]
SUBJECTS = ["Your order #{n} has shipped", "Invoice {n} for your account", "Reset your password",
            "Welcome to Example, {name}!", "Weekly digest: {n} new updates",
            "Meeting notes {n}", "Ihre Bestellung {n} ist unterwegs", "Security alert for {name}",
            "Confirm your email address", "Receipt for payment {n}"]  # fmt: skip
SENTENCES = [
    "Thanks for your order, we are getting it ready to ship.",
    "Track your parcel from your account page at any time.",
    "If anything is missing, reply to this message and we will sort it out.",
    "The invoice for this order is attached as a PDF file.",
    "Returns are free within thirty days of delivery.",
    "Someone asked to reset the password of your account.",
    "Click the link below to confirm your email address.",
    "Here is a summary of what happened in your projects this week.",
    "Vielen Dank für Ihre Bestellung, wir kümmern uns sofort darum.",
    "Die Lieferung erfolgt in zwei bis drei Werktagen, Grüße aus Köln.",
    "Your verification code is {code}; it expires in ten minutes.",
    "The meeting moved to Thursday afternoon in the large room.",
]
WORD, ADDRESS, PHRASE = "invoice", "to:grace.7@example.org", '"track your parcel"'
# The language's later additions: OR, a domain, a subdomain glob, a file name, a folded word.
MORE = ["invoice OR receipt", "from:shop.example", "to:*.example.net", "filename:invoice-42",
        "koln"]  # fmt: skip


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.randrange(50)}@{rng.choice(DOMAINS)}"


def build_message(rng: random.Random, n: int) -> tuple[bytes, str, list[str]]:
    """Return raw bytes, envelope sender and recipients of message number n."""
    sender, rcpt = person(rng), [person(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(rcpt[:1])
    if len(rcpt) > 1:
        msg["Cc"] = rcpt[1]
    msg["Subject"] = rng.choice(SUBJECTS).format(n=n, name=sender.split(".")[0].title())
    msg["Date"] = formatdate(1_700_000_000 + n * 60)
    msg["Message-ID"] = f"<{n}.bench@{sender.split('@')[1]}>"
    msg["X-Campaign"] = rng.choice(["spring", "summer", "none"])
    text = " ".join(rng.choice(SENTENCES).format(code=rng.randrange(10**6)) for _ in range(8))
    msg.set_content(text)
    if n % 10 == 0:
        msg.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
        msg.add_attachment(rng.randbytes(3000), maintype="application", subtype="pdf",
                           filename=f"invoice-{n}.pdf")  # fmt: skip
    return msg.as_bytes(), sender, rcpt


STORE_BATCH = 500  # messages per transaction while filling


def open_store(db: Path | str) -> Store:
    """Open the SQLite file or the PostgreSQL database `db` names."""
    if isinstance(db, str):
        from mailtrap_lite.store.postgres import PostgresStore

        return PostgresStore(db, files=Path(tempfile.gettempdir()), max_messages=0)
    return SQLiteStore(db)


def filled(db: Path | str) -> bool:
    """Tell whether the database already holds messages."""
    if isinstance(db, Path):
        return db.exists()
    store = open_store(db)
    try:
        return store.count_messages() > 0
    finally:
        store.close()


def describe(db: Path | str) -> str:
    """Return the database's size on disk."""
    if isinstance(db, Path):
        return f"database {db}: {db.stat().st_size / 1e6:.0f} MB (+ WAL)"
    import psycopg

    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return f"database {urlsplit(db).path.lstrip('/')} on PostgreSQL: {row[0] / 1e6:.0f} MB"


def store_all(path: Path | str, count: int) -> None:
    """Store `count` messages through the Store API, without indexing them."""
    store = open_store(path)
    started = time.perf_counter()
    with multiprocessing.Pool() as pool:
        for start in range(0, count, STORE_BATCH):
            numbers = range(start, min(start + STORE_BATCH, count))
            store.add_messages([Delivery(new) for new in pool.map(_new_message, numbers)])
    stored = time.perf_counter() - started
    print(f"stored {count} messages in {stored:.1f} s ({count / stored:.0f}/s)", flush=True)
    store.close()


def _new_message(n: int) -> NewMessage:
    raw, sender, rcpt = build_message(random.Random(1042 * 1_000_003 + n), n)
    when = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_700_000_000 + n * 60))
    return NewMessage(raw, sender, rcpt, None, "default", when, parse_summary(raw))


def index_all(path: Path | str) -> None:
    """Index every stored message as the server does, on every core; print how long it took."""
    store = open_store(path)
    count = store.stats()["unindexed"]
    started = time.perf_counter()
    with multiprocessing.Pool() as pool:
        after = 0
        while batch := store.unindexed(after, 2000):
            store.save_index(pool.starmap(_index, batch, chunksize=100))
            after = batch[-1][0]
    took = time.perf_counter() - started
    print(f"indexed {count} messages in {took:.1f} s ({count / took:.0f}/s)", flush=True)
    store.close()


def copy_database(source: Path, target: Path) -> None:
    """Copy a closed database (its WAL is checkpointed at close) over `target`."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


def _index(message_id: int, raw: bytes) -> IndexUpdate:
    return index_one(message_id, raw, 1_048_576)


class Server:
    """mailtrap-lite in a subprocess, with the addresses it printed."""

    def __init__(self, db: Path | str) -> None:
        command = [sys.executable, "-m", "mailtrap_lite", "--db", str(db), "--smtp",
                   "127.0.0.1:0", "--http", "127.0.0.1:0", "--max-messages", "0",
                   "--max-sessions", "0"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
        assert self.process.stdout is not None
        lines = dict(self.process.stdout.readline().strip().split(": ", 1) for _ in range(3))
        host, port = lines["smtp"].rsplit(":", 1)
        self.smtp = (host, int(port))
        url = urlsplit(lines["http"])
        self.http = (url.hostname or "127.0.0.1", url.port or 80)

    def rss_mb(self) -> tuple[float, float]:
        """Return (current, peak) resident memory in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines())
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def get(conn: http.client.HTTPConnection, path: str, **params: object) -> tuple[int, object]:
    conn.request("GET", path + ("?" + urlencode(params) if params else ""))
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def timed(
    conn: http.client.HTTPConnection, repeat: int, path: str, **params: object
) -> list[float]:
    """Return the latencies in ms of `repeat` identical requests (after one warm-up).

    The warm-up comes first in the list: the first ask of a search counts every match,
    later ones only the mail past the total kept (store/sqlite/counts.py).
    """
    started = time.perf_counter()
    get(conn, path, **params)
    found = [(time.perf_counter() - started) * 1000]
    for _ in range(repeat):
        started = time.perf_counter()
        status, _ = get(conn, path, **params)
        found.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
    return found  # the warm-up first


def wakeups(server: Server, repeat: int) -> list[float]:
    """Return ms from each message's 250 reply to the return of a wait for it."""
    watcher = http.client.HTTPConnection(*server.http, timeout=30)
    found = []
    with smtplib.SMTP(*server.smtp) as smtp:
        for n in range(repeat):
            _, page = get(watcher, "/api/v1/messages", limit=1)
            newest = page["messages"][0]["id"]  # type: ignore[index]
            done: dict[str, float] = {}
            waiter = threading.Thread(target=_wait, args=(server, newest, done))
            waiter.start()
            while get(watcher, "/api/v1/health")[1]["live_connections"] != 1:  # type: ignore[index]
                time.sleep(0.001)
            raw, sender, rcpt = build_message(random.Random(n), n)
            smtp.sendmail(sender, rcpt, raw)
            acknowledged = time.perf_counter()
            waiter.join()
            found.append((done["at"] - acknowledged) * 1000)
    return found


def _wait(server: Server, after: str, done: dict[str, float]) -> None:
    conn = http.client.HTTPConnection(*server.http, timeout=30)
    status, _ = get(conn, "/api/v1/wait", after=after, timeout=20)
    done["at"] = time.perf_counter()
    assert status == 200, status


def report(label: str, values: list[float], target: str, first: float | None = None) -> None:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    asked = "" if first is None else f"   first ask {first:7.2f} ms"
    print(f"{label:<34} median {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms"
          f"{asked}   (target {target})")  # fmt: skip


def report_timed(label: str, values: list[float], target: str) -> None:
    """Report timed()'s latencies: the repeated ones, and the warm-up's apart."""
    report(label, values[1:], target, first=values[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--db", help="a file or a postgresql:// URL: filled if empty, else reused")
    parser.add_argument("--stored", type=Path,
                        help="stored, unindexed messages: built here if missing; --db is then"
                             " made anew as an indexed copy of it")  # fmt: skip
    parser.add_argument("--index-only", action="store_true", help="stop once indexed")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="mailtrap-lite-bench-")
    db: Path | str = Path(folder.name) / "bench.db"
    if args.db:
        db = args.db if args.db.startswith(("postgresql://", "postgres://")) else Path(args.db)
    if args.stored is not None:
        if not isinstance(db, Path):
            parser.error("--stored copies SQLite files: give --db a file")
        if not args.stored.exists():
            store_all(args.stored, args.messages)
        copy_database(args.stored, db)
        index_all(db)
    elif not filled(db):
        store_all(db, args.messages)
        index_all(db)
    print(describe(db), flush=True)
    if args.index_only:
        folder.cleanup()
        return
    server = Server(db)
    try:
        conn = http.client.HTTPConnection(*server.http, timeout=30)
        _, health = get(conn, "/api/v1/health")
        print(f"server pid {server.process.pid}: {health}")
        report_timed("list first page (limit 50)", timed(conn, args.repeat, "/api/v1/messages"),
                     "<= 20 ms")  # fmt: skip
        for query in (WORD, ADDRESS, PHRASE, *MORE):
            started = time.perf_counter()
            _, page = get(conn, "/api/v1/messages", query=query)
            first = (time.perf_counter() - started) * 1000
            label = f"search {query} ({page['total']} hits)"  # type: ignore[index]
            found = timed(conn, args.repeat, "/api/v1/messages", query=query)
            report(label, found[1:], "<= 50 ms", first=first)
        report("wake-up: 250 -> wait returns", wakeups(server, args.repeat // 2), "<= 10 ms")
        rss, peak = server.rss_mb()
        print(f"server RSS {rss:.0f} MB, peak {peak:.0f} MB (target <= 150 MB)")
    finally:
        server.stop()
        folder.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

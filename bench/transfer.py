"""Import and export benchmark: 100,000 messages to an mbox file and back into a fresh store.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    python bench/transfer.py                      # 100,000 messages
    python bench/transfer.py --messages 20000     # fewer

1. Fills a database through the Store (no SMTP): messages of about 1.5 KB from a pool of
   senders, subjects and body sentences, each with a Message-ID and a Date.
2. Runs ``python -m mailtrap_lite export OUT.mbox --db DB --quiet`` as a subprocess.
3. Runs ``python -m mailtrap_lite import OUT.mbox --db FRESH --quiet`` as a subprocess.
For each: wall time, messages a second, and the subprocess's peak RSS (ru_maxrss from wait4).
Targets (issue 19): export >= 20,000 msg/s, import >= 3,000 msg/s, RSS < 200 MB for both.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import Delivery
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.store.sqlite import SQLiteStore

WORDS = ("order invoice shipped account password reset welcome report weekly team update"
         " meeting Grüße Straße café review build failed passed deploy").split()  # fmt: skip


def message(n: int, rng: random.Random) -> bytes:
    """Return a plausible message of about 1.5 KB."""
    body = "\r\n".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(14))
    if n % 50 == 0:
        body += "\r\nFrom the desk of the sender"  # a line mbox has to quote
    return (
        f"From: Sender {n % 97} <s{n % 97}@example.com>\r\nTo: r{n % 13}@example.com\r\n"
        f"Subject: {' '.join(rng.choices(WORDS, k=5))} #{n}\r\n"
        f"Message-ID: <{n}.bench@example.com>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def fill(db: Path, count: int) -> None:
    """Store `count` messages in batches of 1,000."""
    store = SQLiteStore(db)
    rng = random.Random(19)
    for start in range(0, count, 1000):
        batch = []
        for n in range(start, min(start + 1000, count)):
            raw = message(n, rng)
            new = NewMessage(raw, f"s{n % 97}@example.com", [f"r{n % 13}@example.com"], None,
                             "default", "2024-01-01T10:00:00.000Z", parse_summary(raw))  # fmt: skip
            batch.append(Delivery(new))
        store.add_messages(batch)
    store.close()


def timed(*args: str) -> tuple[float, int]:
    """Run the CLI; return wall seconds and peak RSS in KB."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mailtrap_lite", *args])
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with status {status}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    count = parser.parse_args().messages
    with tempfile.TemporaryDirectory() as folder:
        db, out, fresh = Path(folder, "bench.db"), Path(folder, "out.mbox"), Path(folder, "new.db")
        fill(db, count)
        print(f"{count} messages, {db.stat().st_size / 1e6:.0f} MB database")
        seconds, rss = timed("export", str(out), "--db", str(db), "--quiet")
        print(f"export: {seconds:.2f} s, {count / seconds:,.0f} msg/s, peak RSS {rss / 1024:.0f}"
              f" MB, {out.stat().st_size / 1e6:.0f} MB mbox")  # fmt: skip
        seconds, rss = timed("import", str(out), "--db", str(fresh), "--quiet")
        print(
            f"import: {seconds:.2f} s, {count / seconds:,.0f} msg/s, peak RSS {rss / 1024:.0f} MB"
        )
        check = SQLiteStore(fresh)
        print(f"imported {check.count_messages()} messages; unindexed until a server indexes"
              f" them: {check.stats()['unindexed']}")  # fmt: skip
        check.close()


if __name__ == "__main__":
    main()

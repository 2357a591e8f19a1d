"""Ctrl-C in the middle of an import: what was committed stays, whole, and the summary says
where it stopped (a real subprocess sent SIGINT)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import until

COUNT = 60_000  # far more than one batch, so that SIGINT lands while batches commit


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def test_sigint_mid_import_leaves_a_consistent_database(tmp_path: Path) -> None:
    mbox = tmp_path / "big.mbox"
    with mbox.open("wb") as out:
        for n in range(COUNT):
            out.write(b"From s@example.com Mon Jan  1 10:00:00 2024\nSubject: message %d\n"
                      b"Message-ID: <%d@example.com>\n\nbody %d\n\n" % (n, n, n))  # fmt: skip
    db = tmp_path / "mail.db"
    command = [sys.executable, "-m", "mailtrap_lite", "import", str(mbox), "--db", str(db)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: _committed(db) > 0, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("imported ") and "; interrupted, stopped at " in summary
    imported = int(summary.split()[1].rstrip(","))
    assert 0 < imported < COUNT
    stopped_at = summary.rpartition("stopped at ")[2]
    assert stopped_at == f"{mbox}: message {imported + 1} (line {imported * 6 + 1})"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SQLiteStore(db)
    try:
        kept = store.export_messages(limit=COUNT)
        assert len(kept) == imported  # every batch whole, none half
        assert [m.raw for m in kept[-2:]] == [
            b"Subject: message %d\nMessage-ID: <%d@example.com>\n\nbody %d\n" % (n, n, n)
            for n in (imported - 2, imported - 1)
        ]
        [session] = store.list_sessions()
        assert session.kind == "import" and session.end_reason == "shutdown"
    finally:
        store.close()

"""SQLite connections for the Store: one writer, a reader per thread, versioned schema.

WAL with synchronous=NORMAL: a commit survives a crash of the process (a 250 reply means the
message is on disk as far as the process is concerned); readers never block the writer.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from mailtrap_lite.store.interface import QueryTimeout, StorageError

BUSY_TIMEOUT_MS = 5000
# SQLite's automatic checkpoint stays on: a checkpoint thread beside it measured no faster
# on 2 cores, and alone it let the WAL grow to 5 GB under steady load. It runs every 10,000
# pages (40 MB) instead of SQLite's 1,000: a message at the --max-messages cap dirties about
# ten pages, and each checkpoint syncs the WAL and the database file (synchronous=NORMAL), so
# at 1,000 the syncs and copies came every ~100 messages. Measured on 1 KB messages at the
# cap: 229 us a message at 1,000 pages, 197 at 4,000, 168 at 10,000, 164 at 20,000.
CHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # the WAL file is truncated to this after it restarts
MAX_PROBLEMS = 3  # problems named when a database is corrupt
PROGRESS_STEPS = 10_000  # SQLite steps between looks at a search's deadline (~1 ms apart)


class CorruptDatabase(StorageError):
    """SQLite's integrity check found damage in the database file."""


def temporary_path() -> Path:
    """Return a fresh temporary database path (SQLite's own :memory: is per connection)."""
    fd, name = tempfile.mkstemp(prefix="mailtrap-lite-", suffix=".db")
    os.close(fd)
    os.unlink(name)
    return Path(name)


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """Open one connection with the settings every connection needs."""
    if read_only:  # SQLite's own read-only mode: no write, no file created (RFC 8089 URI)
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def open_writer(path: Path, check: str | None = None) -> sqlite3.Connection:
    """Open the writing connection, check the file (`check`), switch to WAL and migrate.

    `check` is "quick" (PRAGMA quick_check: every page and b-tree, in about a second per GB)
    or "full" (integrity_check: indexes against their tables too, several times longer).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        if check is not None:
            check_integrity(conn, path, full=check == "full")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        migrate(conn)
    except (OSError, sqlite3.Error) as error:
        raise StorageError(f"cannot use database {path}: {error}") from error
    if mode != "wal":
        raise StorageError(f"cannot use database {path}: WAL mode unavailable ({mode})")
    return conn


def check_integrity(conn: sqlite3.Connection, path: Path, full: bool = False) -> None:
    """Raise CorruptDatabase naming the first problems SQLite's own check finds."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as error:  # damage the check cannot even walk past
        rows = [(str(error),)]
    if [row[0] for row in rows] == ["ok"]:
        return
    conn.close()
    lines = [line for (text,) in rows for line in str(text).splitlines()]
    found = "; ".join(line for line in lines if not line.startswith("***"))  # "*** in main"
    raise CorruptDatabase(
        f"database {path} is corrupt ({pragma}: {found}); restore it from a backup, or move"
        " it away to start with an empty one"
    )


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open a database read-only (beside a server that writes it); it must be up to date."""
    try:
        conn = connect(path, read_only=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as error:
        raise StorageError(f"cannot read database {path}: {error}") from error
    latest = _migrations()[-1][0]
    if version < latest:
        conn.close()
        raise StorageError(
            f"cannot read database {path}: it has schema {version}, this version reads"
            f" {latest}; serve it once with this version to upgrade it"
        )
    return conn


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("mailtrap_lite.store.sqlite.schema")
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d+)_.*\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the schema files newer than the database's user_version, each atomically."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for version, script in _migrations():
        if version <= current:
            continue
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")


class Readers:
    """A read connection per thread, so that web threads read while the SMTP loop writes.

    Searches run `time_limited`: SQLite calls a progress handler every PROGRESS_STEPS
    virtual-machine steps, which interrupts the statement once the thread's deadline has
    passed; the search then fails with QueryTimeout instead of holding its thread (and a
    core) for as long as it takes.
    """

    def __init__(self, path: Path, read_only: bool = False, query_seconds: float = 0.0) -> None:
        self._path = path
        self._read_only = read_only
        self.query_seconds = query_seconds  # 0: no limit
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """Return this thread's read connection, opening it on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, self._read_only)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA cache_size = -256")
            conn.set_progress_handler(self._past_deadline, PROGRESS_STEPS)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def time_limited(self) -> Iterator[sqlite3.Connection]:
        """Yield this thread's reader with the search time limit running (QueryTimeout)."""
        conn = self.get()
        if not self.query_seconds:
            yield conn
            return
        self._local.deadline = time.monotonic() + self.query_seconds
        try:
            yield conn
        except sqlite3.OperationalError as error:
            if str(error) != "interrupted":
                raise
            raise QueryTimeout.after(self.query_seconds) from None
        finally:
            self._local.deadline = None

    def _past_deadline(self) -> int:
        """Tell SQLite to interrupt (non-zero) once this thread's search is out of time."""
        deadline: float | None = getattr(self._local, "deadline", None)
        return int(deadline is not None and time.monotonic() > deadline)

    def close(self) -> None:
        """Close every reader (from any thread)."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

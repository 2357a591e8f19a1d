"""The Store's core: one writer connection behind a lock, a reader per thread, the feed.

The SMTP loop and the indexer write; web threads read on connections of their own, so reads
never wait for a commit. Any SQLite failure in a write becomes a StorageError, rolled back.
Opened `read_only`, every connection is SQLite's read-only kind and every write is a
StorageError: that is how a database served by another process is read (lock.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailtrap_lite.store.interface import StorageError, Store
from mailtrap_lite.store.sqlite.connection import (
    Readers,
    open_read_only,
    open_writer,
    temporary_path,
)


class StoreCore(Store):
    """Connections, write transactions, counters and the change feed of one database."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_messages: int = 0,
        max_sessions: int = 0,
        read_only: bool = False,
        check: str | None = None,
        query_seconds: float = 0.0,
    ) -> None:
        super().__init__()
        self.temporary = path is None or str(path) == ":memory:"
        if self.temporary and read_only:
            raise ValueError("a temporary database cannot be opened read-only")
        self.path = temporary_path() if self.temporary else Path(str(path))
        self.max_messages = max_messages
        self.max_sessions = max_sessions
        self.read_only = read_only
        self._lock = threading.RLock()
        if read_only:
            self._writer = open_read_only(self.path)
        else:  # a fresh temporary file needs no check
            self._writer = open_writer(self.path, None if self.temporary else check)
        self._readers = Readers(self.path, read_only, query_seconds)
        self._identity = _file_identity(self.path)
        self._opened()

    def _opened(self) -> None:
        """Set up what a layer of the store needs once the database is open (each calls super)."""

    def close(self) -> None:
        """Close every connection; a temporary database is removed."""
        with self._lock:
            self._readers.close()
            self._writer.close()
        self.feed.wake_all()
        if self.temporary:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def check_file(self) -> None:
        """Raise StorageError when the file at our path is gone or another one (its inode)."""
        found = _file_identity(self.path)
        if found == self._identity:
            return
        what = "deleted" if found is None else "replaced by another file"
        raise StorageError(f"database file {self.path} was {what} while the server ran")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a write transaction; any SQLite failure becomes a StorageError, rolled back."""
        if self.read_only:
            raise StorageError(f"database {self.path} is open read-only")
        self.check_file()  # never acknowledge a write to a file nobody will open again
        with self._lock:
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                _rollback(conn)
                raise StorageError(str(error)) from error
            except BaseException:
                _rollback(conn)
                raise

    def _read(self) -> sqlite3.Connection:
        self.check_file()  # a new reader would create an empty file in its place
        return self._readers.get()

    @contextmanager
    def _searching(self) -> Iterator[sqlite3.Connection]:
        """Yield a reader for a search: outside any write, within the time limit."""
        self.check_file()
        with self._readers.time_limited() as conn:
            yield conn

    def _bump(self, conn: sqlite3.Connection, counter: str, by: int) -> None:
        conn.execute("UPDATE counters SET value = value + ? WHERE name = ?", (by, counter))


def filters(
    inbox: str | None, before: int | None = None, after: int | None = None
) -> tuple[str, tuple[object, ...]]:
    """Return the WHERE clause and parameters for one inbox and an id range (exclusive)."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (("inbox = ?", inbox), ("id < ?", before), ("id > ?", after)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else "", tuple(params))


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Return (device, inode) of the file at `path`, or None when there is none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")

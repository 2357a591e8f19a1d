"""The PostgreSQL Store's core: a connection pool, transactions, errors, counters, the feed.

Reads and writes borrow a pooled connection for one call. Any PostgreSQL failure (the server
unreachable, restarting, refusing) becomes a StorageError: the SMTP side answers 451 and the
API 503, and once the server is back the pool's fresh connections serve again, no restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import PoolTimeout

from mailtrap_lite.store.interface import QueryTimeout, StorageError, Store
from mailtrap_lite.store.postgres.connection import (
    LOCK_SPACE,
    MESSAGE_LOCK,
    check_tables,
    migrate,
    open_pool,
    redacted,
)

Connection = psycopg.Connection[Any]

# Once no connection could be had, calls fail at once for this long instead of each waiting
# ACQUIRE_TIMEOUT: the SMTP loop waits for the database at most a third of the time while it
# is away, and keeps answering (451) the sessions that do not need it. The pool goes on
# reconnecting meanwhile.
FAIL_FAST_SECONDS = 2.0


class PostgresCore(Store):
    """The pool, write transactions, counters and the change feed of one database.

    `read_only` opens a database that a server writes (every transaction is read-only, the
    schema is left as it is); `check` "full" reads every table and index through first (the
    SQLite store's --check-db; "quick" and None check nothing more than the migrations do).
    `query_seconds` is the searches' time limit (statement_timeout; 0: none).
    """

    commits_wait_on_server = True

    def __init__(
        self,
        url: str,
        *,
        files: Path,
        max_messages: int = 0,
        max_sessions: int = 0,
        read_only: bool = False,
        check: str | None = None,
        query_seconds: float = 0.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.read_only = read_only
        self.query_seconds = query_seconds
        # Where files that belong beside the database go (the self-signed certificate).
        self.path = files
        self.temporary = False
        self.max_messages = max_messages
        self.max_sessions = max_sessions
        self.last_message_at = 0.0
        self._unavailable_until = 0.0  # time.monotonic() until which calls fail at once
        self._pool = open_pool(url, read_only)
        try:
            if not read_only:
                migrate(self._pool)
            if check == "full":
                check_tables(self._pool)
        except psycopg.Error as error:
            self._pool.close()
            raise StorageError(f"cannot use database {redacted(url)}: {error}") from error
        except BaseException:
            self._pool.close()
            raise

    @property
    def location(self) -> str:
        """Return the database's URL without its password."""
        return redacted(self.url)

    def close(self) -> None:
        """Close every connection."""
        self._pool.close()
        self.feed.wake_all()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """Run a write transaction; any PostgreSQL failure becomes a StorageError.

        The COMMIT has returned (synchronous commit) when the block's caller goes on.
        """
        if self.read_only:
            raise StorageError(f"database {self.location} is open read-only")
        with self._connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """Borrow a connection for reading (autocommit: each statement sees the newest data)."""
        with self._connection() as conn:
            yield conn

    @contextmanager
    def _searching(self) -> Iterator[Connection]:
        """Borrow a connection for a search, within the time limit (QueryTimeout past it).

        PostgreSQL cancels the statement itself (statement_timeout, for this transaction
        only), so a search never holds its thread, nor the server, for longer.
        """
        with self._connection() as conn, conn.transaction():
            if self.query_seconds:
                milliseconds = max(int(self.query_seconds * 1000), 1)
                conn.execute(f"SET LOCAL statement_timeout = {milliseconds}")
            try:
                yield conn
            except errors.QueryCanceled:
                raise QueryTimeout.after(self.query_seconds) from None

    def database_size(self) -> int:
        """Return the size of the database on the server, in bytes."""
        with self._read() as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Borrow a pooled connection; PostgreSQL failures become StorageError."""
        if time.monotonic() < self._unavailable_until:
            raise StorageError("database unavailable: no connection (retrying)")
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as error:
            self._unavailable_until = time.monotonic() + FAIL_FAST_SECONDS
            raise StorageError(_describe(error)) from error
        except psycopg.Error as error:
            raise StorageError(_describe(error)) from error

    def _lock_messages(self, conn: Connection) -> None:
        """Take the message lock until this transaction ends (ids, count and pruning).

        Every transaction that adds or deletes messages takes it first: ids are handed out
        in commit order, the stored count stays exact, and two of them never deadlock.
        """
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, MESSAGE_LOCK))

    def _bump(self, conn: Connection, counter: str, by: int) -> int:
        """Add to a counter; return its new value."""
        row = conn.execute(
            "UPDATE counters SET value = value + %s WHERE name = %s RETURNING value",
            (by, counter),
        ).fetchone()
        return int(row[0]) if row else 0


def _describe(error: psycopg.Error) -> str:
    text = str(error).strip().splitlines()
    return f"database unavailable: {text[0] if text else type(error).__name__}"


def where_clause(clauses: list[str]) -> str:
    """Join conditions into a WHERE clause ("" for none)."""
    return "WHERE " + " AND ".join(clauses) if clauses else ""


def filters(
    inbox: str | None, before: int | None = None, after: int | None = None, table: str = ""
) -> tuple[list[str], list[object]]:
    """Return conditions and parameters for one inbox and an id range (exclusive)."""
    prefix = f"{table}." if table else ""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (("inbox = %s", inbox), ("id < %s", before), ("id > %s", after)):
        if value is not None:
            clauses.append(prefix + clause)
            params.append(value)
    return clauses, params

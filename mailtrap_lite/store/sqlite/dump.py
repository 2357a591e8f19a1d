"""Read a SQLite store as plain tables (store/transfer.py), for `mailtrap-lite migrate`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailtrap_lite.store.interface import StorageError
from mailtrap_lite.store.sqlite.connection import connect
from mailtrap_lite.store.sqlite.store import SQLiteStore
from mailtrap_lite.store.transfer import (
    BOOLEAN_COLUMNS,
    COPIED_COLUMNS,
    COUNTERS,
    ID_TABLES,
    StoreDump,
    TableDump,
)

# Tables that are not copied as they are: the search index (the target's indexer rebuilds
# it), SQLite's own bookkeeping, and the counters (read into StoreDump.counters).
NOT_DATA = ("sqlite_", "message_fts", "message_text", "message_addresses", "message_headers",
            "search_gone", "counters")  # fmt: skip


@contextmanager
def dump(path: Path) -> Iterator[StoreDump]:
    """Read the store at `path` in one read transaction (a consistent copy while it runs).

    The file is first brought up to this release's schema, as a server starting on it would.
    """
    if not path.is_file():
        raise StorageError(f"cannot use database {path}: no such file")
    SQLiteStore(path).close()
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        yield StoreDump(
            tables=[_table(conn, name, columns) for name, columns in COPIED_COLUMNS.items()],
            last_ids=_last_ids(conn),
            counters={
                n: v for n, v in conn.execute("SELECT name, value FROM counters") if n in COUNTERS
            },  # fmt: skip
            not_copied=_unknown_tables(conn),
        )
    except sqlite3.Error as error:
        raise StorageError(f"cannot read database {path}: {error}") from error
    finally:
        conn.close()


def _table(conn: sqlite3.Connection, name: str, columns: tuple[str, ...]) -> TableDump:
    booleans = [i for i, column in enumerate(columns) if column in BOOLEAN_COLUMNS]

    def rows() -> Iterator[tuple[object, ...]]:
        cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {name} ORDER BY 1")
        for row in cursor:
            if booleans:
                row = tuple(bool(v) if i in booleans else v for i, v in enumerate(row))
            yield row

    return TableDump(name, columns, rows())


def _last_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """Return the highest id AUTOINCREMENT handed out per table (deleted ones included)."""
    found = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    return {table: int(found.get(table, 0)) for table in ID_TABLES}


def _unknown_tables(conn: sqlite3.Connection) -> list[str]:
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return sorted(n for n in names if n not in COPIED_COLUMNS and not n.startswith(NOT_DATA))

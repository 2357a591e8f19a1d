"""Write a store's tables (store/transfer.py) into an empty PostgreSQL store, ids kept."""

from __future__ import annotations

from collections.abc import Iterable

from mailtrap_lite.store.interface import StorageError
from mailtrap_lite.store.postgres.core import Connection
from mailtrap_lite.store.postgres.sessions import nul_free
from mailtrap_lite.store.postgres.store import PostgresStore
from mailtrap_lite.store.transfer import ID_TABLES, StoreDump


def load(store: PostgresStore, dump: StoreDump) -> dict[str, int]:
    """Copy every table of `dump` in one transaction; return the rows copied per table.

    The target must hold no message and no session: ids are kept, so they must be free.
    Copied messages wait for the indexer (a server on this database indexes them).
    """
    with store._transaction() as conn:
        store._lock_messages(conn)
        _check_empty(conn)
        copied = {table.name: _copy(conn, table.name, table.columns, table.rows)
                  for table in dump.tables}  # fmt: skip
        _set_counters(conn, dump, copied.get("messages", 0))
    return copied


def _check_empty(conn: Connection) -> None:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM sessions)"
    ).fetchone()
    if row and row[0]:
        raise StorageError("the target database already holds messages or sessions")


def _copy(
    conn: Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
) -> int:
    count = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([nul_free(value) for value in row])
            count += 1
    return count


def _set_counters(conn: Connection, dump: StoreDump, messages: int) -> None:
    """Continue the ids after the old ones and carry the counters over."""
    for table in ID_TABLES:
        last = max(dump.last_ids.get(table, 0), _max_id(conn, table))
        if not last:
            continue
        if table == "messages":  # ids from a sequence of their own, taken under a lock
            conn.execute("SELECT setval('message_ids', %s)", (last,))
        else:
            conn.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, last))
    values = {**dump.counters, "messages": messages}
    for name, value in values.items():
        conn.execute("UPDATE counters SET value = %s WHERE name = %s", (value, name))


def _max_id(conn: Connection, table: str) -> int:
    row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()
    return int(row[0]) if row else 0

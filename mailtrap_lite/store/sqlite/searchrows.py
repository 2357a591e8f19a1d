"""The search rows of a message: written after the commit by the indexer, purged after deletes.

message_text holds a message's folded text (searchtext.SearchDocument), indexed by the FTS5
trigram table message_fts (external content); message_addresses its addresses by field, each
also reversed so that a domain is a prefix; message_headers its decoded header values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.searchtext import MAX_HEADER_VALUE, search_document
from mailtrap_lite.store.sqlite.rows import MESSAGE_COLUMNS, message_from_row

__all__ = ["purge_search_rows", "write_search_rows"]


def write_search_rows(conn: sqlite3.Connection, updates: Sequence[IndexUpdate]) -> list[int]:
    """Replace the search rows of these messages and mark them indexed; return their ids.

    Messages deleted meanwhile are left out. One statement per table for the whole batch:
    per message, statements cost more than the rows they write.
    """
    records = {
        record.id: record
        for record in map(message_from_row, _rows(conn, MESSAGE_COLUMNS, "messages", updates))
    }
    updates = [u for u in updates if u.id in records]
    # Rows are replaced only where there are some: new messages (most) have none.
    _delete_rows(conn, [row[0] for row in _rows(conn, "id", "message_text", updates)])
    documents = [(u, search_document(records[u.id], u)) for u in updates]
    conn.executemany(
        "INSERT INTO message_addresses (address, field, message_id, reversed) VALUES (?, ?, ?, ?)",
        ((address, field, u.id, address[::-1]) for u, d in documents
         for address, field in d.address_rows),
    )  # fmt: skip
    conn.executemany(
        "INSERT OR IGNORE INTO message_headers (name, value, message_id) VALUES (?, ?, ?)",
        ((name.lower(), value, u.id) for u in updates for name, value in u.headers
         if len(value) <= MAX_HEADER_VALUE),
    )  # fmt: skip
    texts = [(u.id, d.subject, d.addresses, d.body, d.filenames) for u, d in documents]
    conn.executemany(
        "INSERT INTO message_text (id, subject, addresses, body, filenames) VALUES (?, ?, ?, ?, ?)",
        texts,
    )
    conn.executemany(
        "INSERT INTO message_fts (rowid, subject, addresses, body, filenames)"
        " VALUES (?, ?, ?, ?, ?)",
        texts,
    )
    conn.executemany(
        "UPDATE messages SET snippet = ?, attachment_count = ?, indexed = 1 WHERE id = ?",
        ((u.snippet, u.attachment_count, u.id) for u in updates),
    )
    return [u.id for u in updates]


def _rows(
    conn: sqlite3.Connection, columns: str, table: str, updates: Sequence[IndexUpdate]
) -> list[tuple[Any, ...]]:
    """Select `columns` of the rows of `table` whose id is one of the updates'."""
    if not updates:
        return []
    marks = ", ".join("?" * len(updates))
    query = f"SELECT {columns} FROM {table} WHERE id IN ({marks})"
    return conn.execute(query, [u.id for u in updates]).fetchall()


def _delete_rows(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete every search row of these messages, their index entries included."""
    if not ids:
        return
    params = [(i,) for i in ids]
    # External content: FTS5 needs the old values to remove their index entries.
    conn.executemany(
        "INSERT INTO message_fts (message_fts, rowid, subject, addresses, body, filenames)"
        " SELECT 'delete', id, subject, addresses, body, filenames FROM message_text"
        " WHERE id = ?",
        params,
    )
    for table, key in (("message_text", "id"), ("message_headers", "message_id"),
                       ("message_addresses", "message_id")):  # fmt: skip
        conn.executemany(f"DELETE FROM {table} WHERE {key} = ?", params)


def purge_search_rows(conn: sqlite3.Connection, batch: int) -> int:
    """Remove the search rows of up to `batch` deleted messages; return how many were done."""
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM messages)").fetchone()[0]:
        # Everything was deleted: empty the tables at once (FTS5 "delete-all").
        done = conn.execute("DELETE FROM search_gone").rowcount
        conn.execute("INSERT INTO message_fts (message_fts) VALUES ('delete-all')")
        for table in ("message_text", "message_headers", "message_addresses"):
            conn.execute(f"DELETE FROM {table}")
        return int(done)
    ids = [row[0] for row in conn.execute("SELECT id FROM search_gone LIMIT ?", (batch,))]
    _delete_rows(conn, ids)
    conn.executemany("DELETE FROM search_gone WHERE id = ?", ((i,) for i in ids))
    return len(ids)

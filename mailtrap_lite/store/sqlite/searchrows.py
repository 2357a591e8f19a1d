"""The search rows of a message: written after the commit by the indexer, purged after deletes.

message_text holds a message's folded text (searchtext.SearchDocument), indexed by the FTS5
trigram table message_fts (external content); message_addresses its addresses by field, each
also reversed so that a domain is a prefix; message_headers its decoded header values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.searchtext import search_document
from mailtrap_lite.store.sqlite.rows import MESSAGE_COLUMNS, message_from_row

__all__ = ["index_parts", "purge_search_rows", "write_search_rows"]

INDEX_PART_CHARS = 16_384
MAX_HEADER_VALUE = 4096  # longer values are not indexed for header:Name=value


def index_parts(texts: Sequence[str]) -> Iterator[range]:
    """Group items into index ranges of about INDEX_PART_CHARS of text (one item at least)."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        if i > start and size + len(text) > INDEX_PART_CHARS:
            yield range(start, i)
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        yield range(start, len(texts))


def write_search_rows(conn: sqlite3.Connection, update: IndexUpdate) -> bool:
    """Replace a message's search rows; False if the message is gone."""
    row = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (update.id,)
    ).fetchone()
    if row is None:
        return False
    document = search_document(message_from_row(row), update)
    _delete_rows(conn, [update.id])
    conn.executemany(
        "INSERT INTO message_addresses (address, field, message_id, reversed) VALUES (?, ?, ?, ?)",
        ((address, field, update.id, address[::-1]) for address, field in document.address_rows),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO message_headers (name, value, message_id) VALUES (?, ?, ?)",
        ((name.lower(), value, update.id) for name, value in update.headers
         if len(value) <= MAX_HEADER_VALUE),
    )  # fmt: skip
    values = (update.id, document.subject, document.addresses, document.body,
              document.filenames)  # fmt: skip
    conn.execute(
        "INSERT INTO message_text (id, subject, addresses, body, filenames) VALUES (?, ?, ?, ?, ?)",
        values,
    )
    conn.execute(
        "INSERT INTO message_fts (rowid, subject, addresses, body, filenames)"
        " VALUES (?, ?, ?, ?, ?)",
        values,
    )
    return True


def _delete_rows(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete every search row of these messages, their index entries included."""
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

"""The search rows of a message in PostgreSQL, written after the commit by the indexer.

message_text holds a message's folded text (searchtext.SearchDocument), with a trigram index
per column; message_addresses its addresses by field, each also reversed so that a domain is
a prefix; message_headers its decoded header values. A deleted message takes its rows with
it (ON DELETE CASCADE), so nothing is left to purge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.postgres.core import Connection
from mailtrap_lite.store.postgres.sessions import nul_free
from mailtrap_lite.store.searchtext import MAX_HEADER_VALUE, index_parts, search_document
from mailtrap_lite.store.sqlite.rows import message_from_row

__all__ = ["index_parts", "write_search_rows"]


def write_search_rows(
    conn: Connection, found: Sequence[tuple[tuple[Any, ...], IndexUpdate]]
) -> None:
    """Replace the search rows of messages (rows locked, selected with MESSAGE_COLUMNS)."""
    ids = [update.id for _, update in found]
    for table, key in (("message_text", "id"), ("message_headers", "message_id"),
                       ("message_addresses", "message_id")):  # fmt: skip
        conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)", (ids,))
    texts, addresses, headers, marks = [], [], [], []
    for row, update in found:
        document = search_document(message_from_row(row), update)
        texts.append(tuple(nul_free(v) for v in (update.id, document.subject, document.addresses,
                                                 document.body, document.filenames)))  # fmt: skip
        addresses += [(nul_free(a), field, update.id, nul_free(a[::-1]))
                      for a, field in document.address_rows]  # fmt: skip
        headers += list(dict.fromkeys(
            (nul_free(name.lower()), nul_free(value), update.id)
            for name, value in update.headers if len(value) <= MAX_HEADER_VALUE))  # fmt: skip
        marks.append((nul_free(update.snippet), update.attachment_count, update.id))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO message_text (id, subject, addresses, body, filenames)"
                        " VALUES (%s, %s, %s, %s, %s)", texts)  # fmt: skip
        cur.executemany("INSERT INTO message_addresses (address, field, message_id, reversed)"
                        " VALUES (%s, %s, %s, %s)", addresses)  # fmt: skip
        cur.executemany("INSERT INTO message_headers (name, value, message_id)"
                        " VALUES (%s, %s, %s)", headers)  # fmt: skip
        cur.executemany("UPDATE messages SET snippet = %s, attachment_count = %s,"
                        " indexed = true WHERE id = %s", marks)  # fmt: skip

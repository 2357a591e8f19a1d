"""SQL of imports and exports: finding a stored duplicate, reading messages oldest first.

Kept beside store.py and search.py, the only modules that hold SQL.
"""

from __future__ import annotations

import json
import sqlite3

from mailtrap_lite.store.batches import ids_within
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import NewMessage, StoredMessage
from mailtrap_lite.store.sqlite.search import message_filters

EXPORT_COLUMNS = "m.id, m.inbox, m.session_id, m.received_at, m.mail_from, m.rcpt_to, m.read"


def is_duplicate(conn: sqlite3.Connection, new: NewMessage) -> bool:
    """Tell whether a message with this Message-ID and exactly these bytes is stored."""
    message_id = new.summary.message_id
    if message_id is None:
        return False
    row = conn.execute(
        "SELECT 1 FROM messages m JOIN message_raw r ON r.id = m.id"
        " WHERE m.message_id = ? AND m.size = ? AND r.data = ? LIMIT 1",
        (message_id, len(new.raw), new.raw),
    ).fetchone()
    return row is not None


def export_page(
    conn: sqlite3.Connection,
    query: Query | None,
    inbox: str | None,
    after: int,
    limit: int,
    max_bytes: int | None,
) -> list[StoredMessage]:
    """Return matching messages past id `after`, oldest first, within `max_bytes` of raw."""
    where, params = message_filters(query, inbox, None, after)
    sizes = conn.execute(
        f"SELECT m.id, m.size FROM messages m {where} ORDER BY m.id LIMIT ?", (*params, limit)
    ).fetchall()
    ids = ids_within(sizes, max_bytes)
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT {EXPORT_COLUMNS}, r.data FROM messages m JOIN message_raw r ON r.id = m.id"
        f" WHERE m.id IN ({marks}) ORDER BY m.id",
        ids,
    ).fetchall()
    return [
        StoredMessage(mid, inbox_, session_id, received_at, mail_from, json.loads(rcpt_to),
                      bool(read), bytes(data))
        for mid, inbox_, session_id, received_at, mail_from, rcpt_to, read, data in rows
    ]  # fmt: skip

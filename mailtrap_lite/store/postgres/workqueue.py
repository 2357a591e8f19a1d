"""Indexing as a queue the nodes share: each message is indexed by one node, whichever is free.

A node takes the oldest unindexed messages nobody holds with `FOR UPDATE SKIP LOCKED` (two
nodes taking at the same moment get different messages, neither waits) and marks them as its
own for CLAIM_SECONDS. A node lost while indexing leaves them to be taken again when that
time is up; a node that indexes them anyway only writes the same rows again.
"""

from __future__ import annotations

from typing import Any

import psycopg

from mailtrap_lite.store.batches import ids_within

CLAIM_SECONDS = 30.0

CLAIM = (
    "WITH taken AS (SELECT id FROM messages WHERE NOT indexed"
    " AND (index_claimed_until IS NULL OR index_claimed_until < now())"
    " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
    " UPDATE messages m SET index_claimed_until = now() + make_interval(secs => %s)"
    " FROM taken WHERE m.id = taken.id RETURNING m.id, m.size"
)


def claim(
    conn: psycopg.Connection[Any], limit: int, max_bytes: int | None
) -> list[tuple[int, bytes]]:
    """Take up to `limit` unindexed messages for this node; return (id, raw), oldest first.

    With `max_bytes`, keep only as many as add up to it (the first always comes) and give
    the rest back at once.
    """
    with conn.transaction():
        taken = sorted(conn.execute(CLAIM, (limit, CLAIM_SECONDS)).fetchall())
        wanted = ids_within(taken, max_bytes)
        returned = [int(row[0]) for row in taken[len(wanted) :]]
        if returned:
            conn.execute(
                "UPDATE messages SET index_claimed_until = NULL WHERE id = ANY(%s)", (returned,)
            )
    rows = conn.execute(
        "SELECT id, data FROM message_raw WHERE id = ANY(%s) ORDER BY id", (wanted,)
    ).fetchall()
    return [(int(message_id), bytes(data)) for message_id, data in rows]

"""The search index of the PostgreSQL store, written after each commit: what waits, what was read.

The indexer (store/indexer.py) asks for the oldest unindexed messages, reads their bodies
off the SMTP path and hands back what it learnt; the rows it writes are in searchrows.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mailtrap_lite.store.batches import ids_within
from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.postgres.searchrows import write_search_rows
from mailtrap_lite.store.postgres.tags import TagStore
from mailtrap_lite.store.searchtext import index_parts
from mailtrap_lite.store.sqlite.rows import MESSAGE_COLUMNS


class IndexStore(TagStore):
    """The indexing half of the PostgreSQL store (messages themselves are in store.py)."""

    def unindexed(
        self, after: int = 0, limit: int = 50, max_bytes: int | None = None
    ) -> list[tuple[int, bytes]]:
        """Return (id, raw) of the oldest messages past id `after` not yet indexed.

        With `max_bytes`, stop before their sizes add up past it (the first always comes).
        """
        with self._read() as conn:
            sizes = conn.execute(
                "SELECT id, size FROM messages WHERE id > %s AND NOT indexed ORDER BY id LIMIT %s",
                (after, limit),
            ).fetchall()
            wanted = ids_within(sizes, max_bytes)
            rows = conn.execute(
                "SELECT id, data FROM message_raw WHERE id = ANY(%s) ORDER BY id", (wanted,)
            ).fetchall()
        return [(int(message_id), bytes(data)) for message_id, data in rows]

    def save_index(
        self, updates: list[IndexUpdate], pause: Callable[[float], None] | None = None
    ) -> None:
        """Store what the indexer learned and announce that these messages are searchable.

        The rows are locked in id order first, as pruning locks them, so the two never
        deadlock; a message deleted meanwhile is skipped. Large batches are committed in
        parts, and `pause(seconds_the_part_took)` runs between them.
        """
        for part in index_parts([u.text for u in updates]):
            started = time.monotonic()
            chosen = {updates[i].id: updates[i] for i in part}
            with self._transaction() as conn:
                found = conn.execute(
                    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY(%s)"
                    " ORDER BY id FOR UPDATE",
                    (sorted(chosen),),
                ).fetchall()
                write_search_rows(conn, [(row, chosen[row[0]]) for row in found])
            self.feed.publish("indexed", tuple(u.id for u in chosen.values()))
            if pause is not None:
                pause(time.monotonic() - started)

    def purge_search(self, batch: int = 20) -> int:
        """Return 0: a deleted message's search rows go with it (ON DELETE CASCADE)."""
        return 0

    def oldest_unindexed(self) -> str | None:
        """Return when the oldest message still waiting for the indexer arrived, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT received_at FROM messages WHERE NOT indexed ORDER BY id LIMIT 1"
            ).fetchone()
        return str(row[0]) if row else None

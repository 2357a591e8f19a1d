"""The search index of the SQLite store, written after each commit: what waits, what was read.

The indexer (store/indexer.py) asks for the oldest unindexed messages, reads their bodies
off the SMTP path and hands back what it learnt; the rows it writes are in searchrows.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.searchtext import index_parts
from mailtrap_lite.store.sqlite.searchrows import purge_search_rows, write_search_rows
from mailtrap_lite.store.sqlite.tags import TagStore


class IndexStore(TagStore):
    """The indexing half of the SQLite store (messages themselves are in store.py)."""

    def unindexed(
        self, after: int = 0, limit: int = 50, max_bytes: int | None = None
    ) -> list[tuple[int, bytes]]:
        """Return (id, raw) of the oldest messages past id `after` not yet indexed.

        Ids grow in commit order, so an indexer that passes the last id it indexed finds
        new work by a primary-key range instead of a per-insert index. With `max_bytes`,
        stop before their sizes add up past it (the first always comes).
        """
        conn = self._read()
        sizes = conn.execute(
            "SELECT id, size FROM messages WHERE id > ? AND indexed = 0 ORDER BY id LIMIT ?",
            (after, limit),
        ).fetchall()
        pending: list[tuple[int, bytes]] = []
        total = 0
        for message_id, size in sizes:
            total += size
            if pending and max_bytes is not None and total > max_bytes:
                break
            raw = self.raw(message_id)
            if raw is not None:  # deleted meanwhile
                pending.append((message_id, raw))
        return pending

    def save_index(
        self, updates: list[IndexUpdate], pause: Callable[[float], None] | None = None
    ) -> None:
        """Store what the indexer learned and announce that these messages are searchable.

        Large batches are committed in parts, so that an SMTP commit waits at most one part
        (a few milliseconds). `pause(seconds)` runs between parts with the time the part held
        the writer (the indexer yields there).
        """
        for part in index_parts([u.text for u in updates]):
            with self._transaction() as conn:
                started = time.monotonic()  # once the writer is ours: waiting for it is not work
                write_search_rows(conn, [updates[i] for i in part])
            self.feed.publish("indexed", tuple(updates[i].id for i in part))
            if pause is not None:
                pause(time.monotonic() - started)

    def purge_search(self, batch: int = 20) -> int:
        """Remove search rows of deleted messages, a small batch per transaction; return count.

        Run off the SMTP path (the indexer's thread). About 0.5 ms a message on 100,000
        messages, so a batch holds the writer lock ~10 ms; when no message is left the
        tables are emptied at once (under a second for 100,000).
        """
        if not self._read().execute("SELECT EXISTS (SELECT 1 FROM search_gone)").fetchone()[0]:
            return 0  # nothing to do: no write transaction
        with self._transaction() as conn:
            return purge_search_rows(conn, batch)

    def oldest_unindexed(self) -> str | None:
        """Return when the oldest message still waiting for the indexer arrived, or None."""
        row = (
            self._read()
            .execute("SELECT received_at FROM messages WHERE indexed = 0 ORDER BY id LIMIT 1")
            .fetchone()
        )
        return str(row[0]) if row else None

"""Tags and release records in SQLite: set, rename, delete, count; and the tags of a page.

Tag names are unique without regard to case (the column is NOCASE) and keep the case they
were first written in. Every change to a message's tags publishes `updated` for it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from mailtrap_lite.store.batches import chunks
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, ReleaseRecord
from mailtrap_lite.store.sqlite.search import message_filters
from mailtrap_lite.store.sqlite.sessions import SessionStore
from mailtrap_lite.store.tagging import check_tag, unique_tags

BATCH = 500  # ids per IN (...) list, well under SQLite's limit of host parameters


def insert_tags(conn: sqlite3.Connection, message_id: int, names: Iterable[str]) -> int:
    """Tag one message inside a write transaction; return how many tags were new to it."""
    added = 0
    for name in names:
        conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
        cur = conn.execute(
            "INSERT OR IGNORE INTO message_tags (message_id, tag_id)"
            " SELECT ?, id FROM tags WHERE name = ?",
            (message_id, name),
        )
        added += cur.rowcount
    return added


class TagStore(SessionStore):
    """The tag and release half of the SQLite store."""

    def attach_tags(self, conn: sqlite3.Connection, records: list[MessageRecord]) -> None:
        """Fill each record's tags (one query per page of records)."""
        by_id = {r.id: r for r in records}
        for part in chunks(list(by_id), BATCH):
            marks = ", ".join("?" * len(part))
            rows = conn.execute(
                "SELECT mt.message_id, t.name FROM message_tags mt JOIN tags t"
                f" ON t.id = mt.tag_id WHERE mt.message_id IN ({marks}) ORDER BY t.name",
                tuple(part),
            )
            for message_id, name in rows:
                by_id[message_id].tags.append(name)

    def tags(self) -> list[tuple[str, int, int]]:
        """Return (name, messages, unread) for every tag, by name."""
        rows = self._read().execute(
            "SELECT t.name, count(m.id), coalesce(sum(m.read = 0), 0) FROM tags t"
            " JOIN message_tags mt ON mt.tag_id = t.id JOIN messages m ON m.id = mt.message_id"
            " GROUP BY t.id ORDER BY t.name COLLATE NOCASE"
        )
        return [(name, total, unread) for name, total, unread in rows.fetchall()]

    def add_tags(self, ids: Sequence[int], names: Sequence[str]) -> int:
        """Add tags to messages; return how many (message, tag) pairs were new."""
        names = unique_tags(check_tag(n) for n in names)
        changed: list[int] = []
        with self._transaction() as conn:
            for message_id in ids:
                exists = conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,))
                if exists.fetchone() and insert_tags(conn, message_id, names):
                    changed.append(message_id)
        if changed:
            self.feed.publish("updated", tuple(changed))
        return len(changed)

    def set_tags(self, message_id: int, names: Sequence[str]) -> bool:
        """Replace a message's tags; return False if the message does not exist."""
        names = unique_tags(check_tag(n) for n in names)
        with self._transaction() as conn:
            if not conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone():
                return False
            conn.execute("DELETE FROM message_tags WHERE message_id = ?", (message_id,))
            insert_tags(conn, message_id, names)
            self._drop_unused_tags(conn)
        self.feed.publish("updated", (message_id,))
        return True

    def rename_tag(self, old: str, new: str) -> bool:
        """Rename a tag everywhere (merging into `new` if it exists); False if unknown."""
        new = check_tag(new)
        with self._transaction() as conn:
            row = conn.execute("SELECT id FROM tags WHERE name = ?", (old,)).fetchone()
            if row is None:
                return False
            ids = self._tagged(conn, row[0])
            target = conn.execute("SELECT id FROM tags WHERE name = ?", (new,)).fetchone()
            if target is None or target[0] == row[0]:
                conn.execute("UPDATE tags SET name = ? WHERE id = ?", (new, row[0]))
            else:  # merge: the messages of `old` get `new`, then `old` goes
                conn.execute(
                    "INSERT OR IGNORE INTO message_tags (message_id, tag_id)"
                    " SELECT message_id, ? FROM message_tags WHERE tag_id = ?",
                    (target[0], row[0]),
                )
                conn.execute("DELETE FROM message_tags WHERE tag_id = ?", (row[0],))
                conn.execute("DELETE FROM tags WHERE id = ?", (row[0],))
        if ids:
            self.feed.publish("updated", tuple(ids))
        return True

    def delete_tag(self, name: str) -> int | None:
        """Remove a tag from every message; return how many had it (None: unknown tag)."""
        with self._transaction() as conn:
            row = conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            ids = self._tagged(conn, row[0])
            conn.execute("DELETE FROM message_tags WHERE tag_id = ?", (row[0],))
            conn.execute("DELETE FROM tags WHERE id = ?", (row[0],))
        if ids:
            self.feed.publish("updated", tuple(ids))
        return len(ids)

    def _tagged(self, conn: sqlite3.Connection, tag_id: int) -> list[int]:
        rows = conn.execute("SELECT message_id FROM message_tags WHERE tag_id = ?", (tag_id,))
        return [r[0] for r in rows.fetchall()]

    def _drop_unused_tags(self, conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM message_tags)")

    def matching_ids(self, query: Query, ids: Sequence[int]) -> list[int]:
        """Return which of these messages match a query, in id order."""
        found: list[int] = []
        conn = self._read()
        for part in chunks(sorted(ids), BATCH):
            where, params = message_filters(query, None, part[-1] + 1, part[0] - 1)
            rows = conn.execute(f"SELECT m.id FROM messages m {where}", params).fetchall()
            wanted = set(part)
            found += sorted(r[0] for r in rows if r[0] in wanted)
        return found

    # -- releases --------------------------------------------------------------------------

    def add_release(self, release: ReleaseRecord) -> None:
        """Record a release of a message (its outcome); publishes `updated` for it."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO releases (message_id, session_id, released_at, recipients, ok,"
                " reply) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM messages WHERE id = ?)",
                (release.message_id, release.session_id, release.released_at,
                 json.dumps(release.recipients), release.ok, release.reply,
                 release.message_id),
            )  # fmt: skip
        self.feed.publish("updated", (release.message_id,))

    def releases(self, message_id: int) -> list[ReleaseRecord]:
        """Return the releases of a message, oldest first."""
        rows = self._read().execute(
            "SELECT message_id, session_id, released_at, recipients, ok, reply FROM releases"
            " WHERE message_id = ? ORDER BY id",
            (message_id,),
        )
        return [
            ReleaseRecord(mid, sid, at, json.loads(to), bool(ok), reply)
            for mid, sid, at, to, ok, reply in rows.fetchall()
        ]

"""Tags and release records in PostgreSQL: set, rename, delete, count; and the tags of a page.

Tag names are unique without regard to ASCII case (tag_key(), as SQLite's NOCASE compares)
and keep the case they were first written in. Every change to a message's tags publishes
`updated` for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from mailtrap_lite.store.batches import chunks
from mailtrap_lite.store.postgres.core import Connection
from mailtrap_lite.store.postgres.search import message_filters
from mailtrap_lite.store.postgres.sessions import SessionStore, nul_free
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, ReleaseRecord
from mailtrap_lite.store.tagging import check_tag, unique_tags

BATCH = 500  # ids per query when a query is checked against a list of messages


def insert_tags(conn: Connection, message_id: int, names: Iterable[str]) -> int:
    """Tag one message inside a write transaction; return how many tags were new to it."""
    added = 0
    for name in names:
        conn.execute(
            "INSERT INTO tags (name) VALUES (%s) ON CONFLICT (tag_key(name)) DO NOTHING",
            (nul_free(name),),
        )
        cur = conn.execute(
            "INSERT INTO message_tags (message_id, tag_id) SELECT %s, id FROM tags"
            " WHERE tag_key(name) = tag_key(%s) ON CONFLICT DO NOTHING",
            (message_id, name),
        )
        added += max(cur.rowcount, 0)
    return added


class TagStore(SessionStore):
    """The tag and release half of the PostgreSQL store."""

    def attach_tags(self, conn: Connection, records: list[MessageRecord]) -> None:
        """Fill each record's tags (one query per page of records)."""
        if not records:
            return
        by_id = {r.id: r for r in records}
        rows = conn.execute(
            "SELECT mt.message_id, t.name FROM message_tags mt JOIN tags t ON t.id = mt.tag_id"
            ' WHERE mt.message_id = ANY(%s) ORDER BY tag_key(t.name) COLLATE "C"',
            (list(by_id),),
        )
        for message_id, name in rows:
            by_id[message_id].tags.append(name)

    def tags(self) -> list[tuple[str, int, int]]:
        """Return (name, messages, unread) for every tag, by name (ASCII case aside)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT t.name, count(m.id), count(m.id) FILTER (WHERE NOT m.read) FROM tags t"
                " JOIN message_tags mt ON mt.tag_id = t.id JOIN messages m ON m.id = mt.message_id"
                ' GROUP BY t.id, t.name ORDER BY tag_key(t.name) COLLATE "C"'
            ).fetchall()
        return [(name, int(total), int(unread)) for name, total, unread in rows]

    def add_tags(self, ids: Sequence[int], names: Sequence[str]) -> int:
        """Add tags to messages; return how many messages gained one."""
        names = unique_tags(check_tag(n) for n in names)
        changed: list[int] = []
        with self._transaction() as conn:
            existing = conn.execute(
                "SELECT id FROM messages WHERE id = ANY(%s) ORDER BY id", (list(ids),)
            ).fetchall()
            found = {row[0] for row in existing}
            for message_id in ids:
                if message_id in found and insert_tags(conn, message_id, names):
                    changed.append(message_id)
        if changed:
            self.feed.publish("updated", tuple(changed))
        return len(changed)

    def set_tags(self, message_id: int, names: Sequence[str]) -> bool:
        """Replace a message's tags; return False if the message does not exist."""
        names = unique_tags(check_tag(n) for n in names)
        with self._transaction() as conn:
            exists = conn.execute("SELECT 1 FROM messages WHERE id = %s", (message_id,))
            if not exists.fetchone():
                return False
            conn.execute("DELETE FROM message_tags WHERE message_id = %s", (message_id,))
            insert_tags(conn, message_id, names)
            self._drop_unused_tags(conn)
        self.feed.publish("updated", (message_id,))
        return True

    def rename_tag(self, old: str, new: str) -> bool:
        """Rename a tag everywhere (merging into `new` if it exists); False if unknown."""
        new = check_tag(new)
        with self._transaction() as conn:
            row = self._tag_id(conn, old)
            if row is None:
                return False
            ids = self._tagged(conn, row)
            target = self._tag_id(conn, new)
            if target is None or target == row:
                conn.execute("UPDATE tags SET name = %s WHERE id = %s", (new, row))
            else:  # merge: the messages of `old` get `new`, then `old` goes
                conn.execute(
                    "INSERT INTO message_tags (message_id, tag_id) SELECT message_id, %s"
                    " FROM message_tags WHERE tag_id = %s ON CONFLICT DO NOTHING",
                    (target, row),
                )
                conn.execute("DELETE FROM tags WHERE id = %s", (row,))  # its rows cascade
        if ids:
            self.feed.publish("updated", tuple(ids))
        return True

    def delete_tag(self, name: str) -> int | None:
        """Remove a tag from every message; return how many had it (None: unknown tag)."""
        with self._transaction() as conn:
            tag_id = self._tag_id(conn, name)
            if tag_id is None:
                return None
            ids = self._tagged(conn, tag_id)
            conn.execute("DELETE FROM tags WHERE id = %s", (tag_id,))  # its rows cascade
        if ids:
            self.feed.publish("updated", tuple(ids))
        return len(ids)

    def _tag_id(self, conn: Connection, name: str) -> int | None:
        row = conn.execute(
            "SELECT id FROM tags WHERE tag_key(name) = tag_key(%s) FOR UPDATE", (nul_free(name),)
        ).fetchone()
        return int(row[0]) if row else None

    def _tagged(self, conn: Connection, tag_id: int) -> list[int]:
        rows = conn.execute(
            "SELECT message_id FROM message_tags WHERE tag_id = %s ORDER BY message_id", (tag_id,)
        )
        return [int(r[0]) for r in rows.fetchall()]

    def _drop_unused_tags(self, conn: Connection) -> None:
        conn.execute(
            "DELETE FROM tags t WHERE NOT EXISTS (SELECT 1 FROM message_tags WHERE tag_id = t.id)"
        )

    def matching_ids(self, query: Query, ids: Sequence[int]) -> list[int]:
        """Return which of these messages match a query, in id order."""
        found: list[int] = []
        with self._read() as conn:
            for part in chunks(sorted(ids), BATCH):
                where, params = message_filters(query, None, part[-1] + 1, part[0] - 1)
                rows = conn.execute(f"SELECT m.id FROM messages m {where}", params).fetchall()
                wanted = set(part)
                found += sorted(int(r[0]) for r in rows if r[0] in wanted)
        return found

    # -- releases --------------------------------------------------------------------------

    def add_release(self, release: ReleaseRecord) -> None:
        """Record a release of a message (its outcome); publishes `updated` for it."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO releases (message_id, session_id, released_at, recipients, ok,"
                " reply) SELECT %s, %s, %s, %s, %s, %s WHERE EXISTS"
                " (SELECT 1 FROM messages WHERE id = %s)",
                (release.message_id, release.session_id, release.released_at,
                 json.dumps(release.recipients), release.ok, nul_free(release.reply),
                 release.message_id),
            )  # fmt: skip
        self.feed.publish("updated", (release.message_id,))

    def releases(self, message_id: int) -> list[ReleaseRecord]:
        """Return the releases of a message, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT message_id, session_id, released_at, recipients, ok, reply FROM releases"
                " WHERE message_id = %s ORDER BY id",
                (message_id,),
            ).fetchall()
        return [
            ReleaseRecord(int(mid), sid, at, json.loads(to), bool(ok), reply)
            for mid, sid, at, to, ok, reply in rows
        ]

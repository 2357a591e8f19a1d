"""The PostgreSQL Store: the same behaviour as the SQLite one, in a database nodes can share.

Messages are committed with `synchronous_commit = on` before the 250 reply; a group of
deliveries shares one transaction (group commit, as on SQLite). Ids come from a sequence read
under a transaction-scoped advisory lock, so they increase in commit order. Retention prunes
in the insert's own transaction; deleting a message removes its raw bytes and search rows
with it (ON DELETE CASCADE). Connections live in core.py, sessions in sessions.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mailtrap_lite.store.interface import Delivery, IndexUpdate, Page
from mailtrap_lite.store.postgres.cluster import NodeStore
from mailtrap_lite.store.postgres.core import Connection, filters
from mailtrap_lite.store.postgres.search import count_sql, message_filters, page_sql, runnable
from mailtrap_lite.store.postgres.searchrows import index_parts, write_search_rows
from mailtrap_lite.store.postgres.sessions import INSERT_CHUNK, nul_free
from mailtrap_lite.store.postgres.workqueue import claim
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, NewMessage
from mailtrap_lite.store.sqlite.rows import (
    MESSAGE_COLUMNS,
    mailbox_json,
    mailboxes_json,
    message_from_row,
    warnings_json,
)

__all__ = ["PostgresStore"]

INSERT_MESSAGE = (
    "INSERT INTO messages (id, inbox, session_id, received_at, mail_from, mail_options, rcpt_to,"
    " subject, from_json, to_json, cc_json, reply_to_json, message_id, date, size, warnings)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
M_COLUMNS = ", ".join(f"m.{c.strip()}" for c in MESSAGE_COLUMNS.split(","))


class PostgresStore(NodeStore):
    """PostgreSQL storage for messages, sessions and transcripts, with retention and a feed."""

    def __init__(
        self, url: str, *, files: Path, max_messages: int = 0, max_sessions: int = 0
    ) -> None:
        super().__init__(url, files=files, max_messages=max_messages, max_sessions=max_sessions)
        self._mailed: set[int] = set()  # sessions already marked kept_mail

    # -- messages ---------------------------------------------------------------------------

    def add_messages(self, batch: Sequence[Delivery]) -> list[int]:
        """Commit messages in one transaction (a group commit); return their ids in order.

        Raises StorageError when the database cannot take them; then none is stored.
        """
        # Pipelined: statements go out without waiting for each answer, so a commit costs a
        # few round trips to the server, not one per statement.
        with self._transaction() as conn, conn.pipeline():
            self._lock_messages(conn)
            ids = self._next_ids(conn, len(batch))
            self._insert(conn, batch, ids)
            count = self._bump(conn, "messages", len(batch))
            pruned = self._prune_messages(conn, count)
        self.last_message_at = time.monotonic()
        for delivery, message_id in zip(batch, ids, strict=True):
            self._note_mailed(delivery.new.session_id, pruned)
            self.feed.publish("message", (message_id,), delivery.new.inbox)
        return ids

    def _next_ids(self, conn: Connection, count: int) -> list[int]:
        """Take `count` ids (the message lock is held until the commit)."""
        rows = conn.execute(
            "SELECT nextval('message_ids') FROM generate_series(1, %s)", (count,)
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _insert(self, conn: Connection, batch: Sequence[Delivery], ids: list[int]) -> None:
        pairs = list(zip(ids, batch, strict=True))
        chunks = []
        for delivery in batch:
            sid = delivery.new.session_id
            if sid is not None:
                self._write_facts(conn, sid, delivery.facts)
                chunks.append(self._chunk_row(sid, delivery.transcript))
                if sid not in self._mailed:
                    conn.execute("UPDATE sessions SET kept_mail = true WHERE id = %s", (sid,))
        with conn.cursor() as cur:
            cur.executemany(INSERT_MESSAGE, [_message_row(i, d.new) for i, d in pairs])
            cur.executemany("INSERT INTO message_raw (id, data) VALUES (%s, %s)",
                            [(i, d.new.raw) for i, d in pairs])  # fmt: skip
            cur.executemany(INSERT_CHUNK, [chunk for chunk in chunks if chunk is not None])

    def _prune_messages(self, conn: Connection, count: int) -> list[int | None]:
        """Delete the oldest messages past --max-messages, counting them (never silently).

        Returns the sessions of the pruned messages.
        """
        excess = count - self.max_messages if self.max_messages else 0
        if excess <= 0:
            return []
        gone = self._delete_where(
            conn, "id IN (SELECT id FROM messages ORDER BY id LIMIT %s FOR UPDATE)", [excess]
        )
        self._bump(conn, "pruned_messages", len(gone))
        return [session_id for _, session_id in gone]

    def _delete_where(
        self, conn: Connection, where: str, params: list[object]
    ) -> list[tuple[int, int | None]]:
        """Delete messages (the message lock held), keeping the count; return (id, session)."""
        rows = conn.execute(
            f"DELETE FROM messages WHERE {where} RETURNING id, session_id",
            params,
        ).fetchall()
        if rows:
            self._bump(conn, "messages", -len(rows))
        sessions = {row[1] for row in rows if row[1] is not None}
        if sessions:
            conn.execute(
                "UPDATE sessions s SET kept_mail = false WHERE s.id = ANY(%s)"
                " AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = s.id)",
                (sorted(sessions),),
            )
        return [(int(row[0]), row[1]) for row in rows]

    def _note_mailed(self, added: int | None, emptied: list[int | None]) -> None:
        """Remember which sessions are marked as having kept mail (saves an UPDATE a message)."""
        if len(self._mailed) > 100_000:
            self._mailed.clear()  # bounded memory; forgetting only costs a redundant UPDATE
        self._mailed.difference_update(emptied)
        if added is not None and added not in emptied:
            self._mailed.add(added)

    def get_message(self, message_id: int) -> MessageRecord | None:
        """Return one message's stored fields, or None."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s",
                (message_id,),
            ).fetchone()
        return message_from_row(row) if row else None

    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None."""
        with self._read() as conn:
            row = conn.execute("SELECT data FROM message_raw WHERE id = %s", (message_id,))
            found = row.fetchone()
        return bytes(found[0]) if found else None

    def list_messages(
        self,
        inbox: str | None = None,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        query: Query | None = None,
    ) -> Page:
        """Return messages newest first with the total count of matches (before aside)."""
        with self._read() as conn, runnable():
            total = self._count(conn, query, inbox, after)
            rows = conn.execute(*page_sql(M_COLUMNS, query, inbox, before, after, limit))
            return Page(total, [message_from_row(row) for row in rows.fetchall()])

    def _count(
        self, conn: Connection, query: Query | None, inbox: str | None, after: int | None
    ) -> int:
        if not query and inbox is None and after is None:  # the count kept under the lock
            row = conn.execute("SELECT value FROM counters WHERE name = 'messages'").fetchone()
        else:
            row = conn.execute(*count_sql(query, inbox, after)).fetchone()
        return int(row[0]) if row else 0

    def count_messages(
        self, query: Query | None = None, inbox: str | None = None, after: int | None = None
    ) -> int:
        """Return how many messages match (newer than `after`)."""
        with self._read() as conn, runnable():
            return self._count(conn, query, inbox, after)

    def delete_matching(self, query: Query | None = None, inbox: str | None = None) -> int:
        """Delete the messages that match a query (in an inbox); return how many."""
        if not query:
            return self.clear(inbox)
        where, params = message_filters(query, inbox)
        return self._delete_published(f"id IN (SELECT m.id FROM messages m {where})", params, inbox)

    def _delete_published(self, where: str, params: list[object], inbox: str | None) -> int:
        """Delete messages in a transaction of their own and announce which."""
        with self._transaction() as conn, runnable():
            self._lock_messages(conn)
            gone = self._delete_where(conn, where, params)
        deleted = [message_id for message_id, _ in gone]
        self._note_mailed(None, [session_id for _, session_id in gone])
        if deleted:
            self.feed.publish("deleted", tuple(sorted(deleted)), inbox)
        return len(deleted)

    def set_read(self, message_id: int, read: bool) -> bool:
        """Mark a message read or unread; return False if it does not exist."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE messages SET read = %s WHERE id = %s", (read, message_id))
        if cur.rowcount:
            self.feed.publish("updated", (message_id,))
        return cur.rowcount > 0

    def delete_messages(self, ids: list[int]) -> int:
        """Delete these messages; return how many existed."""
        return self._delete_published("id = ANY(%s)", [list(ids)], None)

    def clear(self, inbox: str | None = None) -> int:
        """Delete every message (of one inbox); return how many."""
        clauses, params = filters(inbox)
        return self._delete_published(" AND ".join(clauses) or "true", params, inbox)

    def inboxes(self) -> list[tuple[str, int, int]]:
        """Return (name, total, unread) for each inbox that holds messages or sessions."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT inbox, count(*), count(*) FILTER (WHERE NOT read) FROM messages"
                " GROUP BY inbox UNION SELECT inbox, 0, 0 FROM sessions"
                " WHERE inbox NOT IN (SELECT DISTINCT inbox FROM messages) GROUP BY inbox"
            ).fetchall()
        return sorted((name, int(total), int(unread)) for name, total, unread in rows)

    def stats(self) -> dict[str, int]:
        """Return counts for health reports: messages, pruned, sessions, index lag."""
        with self._read() as conn:
            counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
            row = conn.execute("SELECT count(*) FROM messages WHERE NOT indexed").fetchone()
        return {
            "messages": int(counters.get("messages", 0)),
            "pruned": int(counters.get("pruned_messages", 0)),
            "pruned_sessions": int(counters.get("pruned_sessions", 0)),
            "unindexed": int(row[0]) if row else 0,
        }

    # -- indexing (after the commit) --------------------------------------------------------

    def unindexed(
        self, after: int = 0, limit: int = 50, max_bytes: int | None = None
    ) -> list[tuple[int, bytes]]:
        """Take (id, raw) of the oldest unindexed messages no other node is indexing.

        Nodes share the work (workqueue.py), so `after` is not used: a message another node
        took and never finished comes back here once its claim runs out. With `max_bytes`,
        stop before their sizes add up past it (the first always comes).
        """
        with self._read() as conn:
            return claim(conn, limit, max_bytes)

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


def _message_row(message_id: int, new: NewMessage) -> tuple[object, ...]:
    s = new.summary
    return (
        message_id, nul_free(new.inbox), new.session_id, new.received_at,
        nul_free(new.mail_from), json.dumps(new.mail_options), json.dumps(new.rcpt_to),
        nul_free(s.subject), mailbox_json(s.from_), mailboxes_json(s.to), mailboxes_json(s.cc),
        mailboxes_json(s.reply_to), nul_free(s.message_id), nul_free(s.date), len(new.raw),
        warnings_json(new.warnings),
    )  # fmt: skip

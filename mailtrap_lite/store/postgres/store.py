"""The PostgreSQL Store: the same behaviour as the SQLite one, in a database nodes can share.

Messages are committed with `synchronous_commit = on` before the 250 reply; a group of
deliveries shares one transaction (group commit, as on SQLite). Ids come from a sequence read
under a transaction-scoped advisory lock, so they increase in commit order. Retention prunes
in the insert's own transaction; deleting a message removes its raw bytes, tags, releases and
search rows with it (ON DELETE CASCADE). Connections live in core.py, sessions in
sessions.py, tags and releases in tags.py, the search index in indexing.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from mailtrap_lite.store.interface import Delivery, Page
from mailtrap_lite.store.postgres.archive import export_page, is_duplicate
from mailtrap_lite.store.postgres.cluster import NodeStore
from mailtrap_lite.store.postgres.core import Connection, filters
from mailtrap_lite.store.postgres.search import count_sql, message_filters, page_sql, runnable
from mailtrap_lite.store.postgres.sessions import INSERT_CHUNK, nul_free
from mailtrap_lite.store.postgres.tags import insert_tags
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, NewMessage, StoredMessage
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
# Messages deleted per write transaction, as on SQLite: a deletion by query searches first,
# then deletes by id, so new mail waits for the message lock one batch at most.
DELETE_BATCH = 200


class PostgresStore(NodeStore):
    """PostgreSQL storage for messages, sessions and transcripts, with retention and a feed.

    See PostgresCore for `read_only`, `check` and `query_seconds`.
    """

    def __init__(
        self,
        url: str,
        *,
        files: Path,
        max_messages: int = 0,
        max_sessions: int = 0,
        read_only: bool = False,
        check: str | None = None,
        query_seconds: float = 0.0,
    ) -> None:
        super().__init__(
            url,
            files=files,
            max_messages=max_messages,
            max_sessions=max_sessions,
            read_only=read_only,
            check=check,
            query_seconds=query_seconds,
        )
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

    def import_messages(
        self, batch: Sequence[NewMessage], keep_duplicates: bool = False
    ) -> list[int | None]:
        """Commit imported messages in one transaction; return their ids (None: skipped).

        Unless `keep_duplicates`, a message with the Message-ID and the exact bytes of one
        already stored (or earlier in the batch: the same transaction sees it) is skipped.
        """
        ids: list[int | None] = []
        with self._transaction() as conn:
            self._lock_messages(conn)
            for new in batch:
                if not keep_duplicates and is_duplicate(conn, new):
                    ids.append(None)
                    continue
                message_id = self._next_ids(conn, 1)[0]
                self._insert(conn, [Delivery(new)], [message_id])
                ids.append(message_id)
            stored = [i for i in ids if i is not None]
            count = self._bump(conn, "messages", len(stored))
            pruned = self._prune_messages(conn, count)
        if stored:
            self.last_message_at = time.monotonic()
            for session_id in {new.session_id for new in batch}:
                self._note_mailed(session_id, pruned)
            inboxes = {new.inbox for new in batch}
            # one change for the batch: followers (event streams, waits) read every id of it
            self.feed.publish(
                "message", tuple(stored), inboxes.pop() if len(inboxes) == 1 else None
            )
        return ids

    def export_messages(
        self,
        query: Query | None = None,
        inbox: str | None = None,
        after: int = 0,
        limit: int = 200,
        max_bytes: int | None = None,
    ) -> list[StoredMessage]:
        """Return matching messages with their bytes, oldest first, ids past `after`.

        Each page's search runs within the time limit, as every search does.
        """
        with self._searching() as conn, runnable():
            return export_page(conn, query, inbox, after, limit, max_bytes)

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
                self._write_problems(conn, sid, delivery.problems)
                chunks.append(self._chunk_row(sid, delivery.transcript))
                if sid not in self._mailed:
                    conn.execute("UPDATE sessions SET kept_mail = true WHERE id = %s", (sid,))
        with conn.cursor() as cur:
            cur.executemany(INSERT_MESSAGE, [_message_row(i, d.new) for i, d in pairs])
            cur.executemany("INSERT INTO message_raw (id, data) VALUES (%s, %s)",
                            [(i, d.new.raw) for i, d in pairs])  # fmt: skip
            cur.executemany(INSERT_CHUNK, [chunk for chunk in chunks if chunk is not None])
        for message_id, delivery in pairs:
            if delivery.new.tags:
                insert_tags(conn, message_id, delivery.new.tags)

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
            if row is None:
                return None
            record = message_from_row(row)
            self.attach_tags(conn, [record])
        return record

    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None."""
        with self._read() as conn:
            row = conn.execute("SELECT data FROM message_raw WHERE id = %s", (message_id,))
            found = row.fetchone()
        return bytes(found[0]) if found else None

    def raw_start(self, message_id: int, size: int) -> bytes | None:
        """Return the first `size` bytes received, reading no more of the value than that.

        The bytes are stored uncompressed (STORAGE EXTERNAL), so PostgreSQL reads only the
        chunks that hold the start.
        """
        with self._read() as conn:
            row = conn.execute(
                "SELECT substring(data FROM 1 FOR %s) FROM message_raw WHERE id = %s",
                (max(size, 0), message_id),
            ).fetchone()
        return bytes(row[0]) if row else None

    def list_messages(
        self,
        inbox: str | None = None,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        query: Query | None = None,
    ) -> Page:
        """Return messages newest first with the total count of matches (before aside)."""
        with self._searching() as conn, runnable():
            total = self._count(conn, query, inbox, after)
            rows = conn.execute(*page_sql(M_COLUMNS, query, inbox, before, after, limit))
            records = [message_from_row(row) for row in rows.fetchall()]
            self.attach_tags(conn, records)
        return Page(total, records)

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
        with self._searching() as conn, runnable():
            return self._count(conn, query, inbox, after)

    def delete_matching(self, query: Query | None = None, inbox: str | None = None) -> int:
        """Delete the messages that match a query (in an inbox); return how many.

        The search runs first, within the time limit, holding no lock; the matches are then
        deleted by id, DELETE_BATCH per transaction, so new mail waits for the message lock
        at most one batch. Mail that arrives meanwhile is not deleted.
        """
        if not query:
            return self.clear(inbox)
        where, params = message_filters(query, inbox)
        with self._searching() as conn, runnable():
            rows = conn.execute(f"SELECT m.id FROM messages m {where} ORDER BY m.id", params)
            ids = [int(row[0]) for row in rows.fetchall()]
        return self._delete_batches(ids, inbox)

    def _delete_batches(self, ids: Sequence[int], inbox: str | None = None) -> int:
        """Delete these messages, DELETE_BATCH per transaction; return how many existed."""
        deleted = 0
        for start in range(0, len(ids), DELETE_BATCH):
            batch = sorted(ids[start : start + DELETE_BATCH])
            with self._transaction() as conn:
                self._lock_messages(conn)
                gone = self._delete_where(conn, "id = ANY(%s)", [batch])
            self._note_mailed(None, [session_id for _, session_id in gone])
            if gone:
                self.feed.publish("deleted", tuple(sorted(i for i, _ in gone)), inbox)
            deleted += len(gone)
        return deleted

    def set_read(self, message_id: int, read: bool) -> bool:
        """Mark a message read or unread; return False if it does not exist."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE messages SET read = %s WHERE id = %s", (read, message_id))
        if cur.rowcount:
            self.feed.publish("updated", (message_id,))
        return cur.rowcount > 0

    def delete_messages(self, ids: list[int]) -> int:
        """Delete these messages; return how many existed."""
        return self._delete_batches(ids)

    def clear(self, inbox: str | None = None) -> int:
        """Delete every message (of one inbox), in batches as delete_matching; return how many."""
        clauses, params = filters(inbox)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(f"SELECT id FROM messages {where} ORDER BY id", params)
            ids = [int(row[0]) for row in rows.fetchall()]
        return self._delete_batches(ids, inbox)

    def prune_older_than(self, cutoff: str) -> int:
        """Delete messages received before `cutoff` (--max-age), counted as pruned.

        Their sessions go too once they hold no kept message and began before the cutoff.
        Publishes `pruned` with the ids. Returns how many messages went.
        """
        with self._transaction() as conn:
            self._lock_messages(conn)
            rows = self._delete_where(conn, "received_at < %s", [cutoff])
            ids = sorted(message_id for message_id, _ in rows)
            self._bump(conn, "pruned_messages", len(ids))
            gone = conn.execute(
                "DELETE FROM sessions WHERE NOT kept_mail AND started_at < %s"
                " AND end_reason IS NOT NULL",
                (cutoff,),
            ).rowcount
            self._bump(conn, "pruned_sessions", max(gone, 0))
        self._note_mailed(None, [session for _, session in rows])
        if ids:
            self.feed.publish("pruned", tuple(ids))
        return len(ids)

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


def _message_row(message_id: int, new: NewMessage) -> tuple[object, ...]:
    s = new.summary
    return (
        message_id, nul_free(new.inbox), new.session_id, new.received_at,
        nul_free(new.mail_from), json.dumps(new.mail_options), json.dumps(new.rcpt_to),
        nul_free(s.subject), mailbox_json(s.from_), mailboxes_json(s.to), mailboxes_json(s.cc),
        mailboxes_json(s.reply_to), nul_free(s.message_id), nul_free(s.date), len(new.raw),
        warnings_json(new.warnings),
    )  # fmt: skip

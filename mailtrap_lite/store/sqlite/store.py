"""The Store: the only way messages and sessions are written or read.

One writer connection behind a lock (the SMTP loop and the indexer write; the commit costs less
than handing work to a writer thread, DESIGN.md), a read connection per thread, and a change
feed that the web layer and fixtures follow. Retention prunes in the insert's own transaction.
Connections and transactions live in core.py, sessions in sessions.py, tags in tags.py, the
search index in indexing.py; messages and their retention here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence

from mailtrap_lite.store.interface import (
    Delivery,
    Page,
    SessionFacts,
)
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, NewMessage, RawLine, StoredMessage
from mailtrap_lite.store.sqlite.archive import export_page, is_duplicate
from mailtrap_lite.store.sqlite.core import filters
from mailtrap_lite.store.sqlite.counts import MatchCounts
from mailtrap_lite.store.sqlite.indexing import IndexStore
from mailtrap_lite.store.sqlite.rows import (
    MESSAGE_COLUMNS,
    mailbox_json,
    mailboxes_json,
    message_from_row,
    warnings_json,
)
from mailtrap_lite.store.sqlite.search import message_filters, page_sql, runnable
from mailtrap_lite.store.sqlite.tags import insert_tags

__all__ = ["SQLiteStore"]

# Messages deleted per write transaction: the SMTP side waits for the writer one batch at most.
# Measured on the shared 2-core machine, 200 messages of 50 KB with their search rows: 11-74 ms
# a batch, about 0.5 s for the one that sets off a WAL checkpoint.
DELETE_BATCH = 200


class SQLiteStore(IndexStore):
    """SQLite storage for messages, sessions and transcripts, with retention and a feed.

    `read_only` opens a database that another process serves (lock.py); `check` ("quick" or
    "full") checks the file's integrity first and raises CorruptDatabase on damage.
    """

    def _opened(self) -> None:
        super()._opened()
        self._count = self._writer.execute("SELECT count(*) FROM messages").fetchone()[0]
        self._mailed: set[int] = set()  # sessions already marked kept_mail = 1
        self.last_message_at = 0.0  # time.monotonic() of the newest commit of a message
        self._counts = MatchCounts(self.feed)

    # -- messages ---------------------------------------------------------------------------

    def add_message(
        self,
        new: NewMessage,
        transcript: Sequence[RawLine] = (),
        facts: SessionFacts | None = None,
    ) -> int:
        """Commit a message (and its session's transcript and facts so far); return its id.

        Raises StorageError when the database cannot take it; nothing is half-stored then.
        """
        return self.add_messages([Delivery(new, transcript, facts)])[0]

    def add_messages(self, batch: Sequence[Delivery]) -> list[int]:
        """Commit messages in one transaction (a group commit); return their ids in order.

        One commit writes each touched page once, however many messages share it. Raises
        StorageError when the database cannot take them; then none is stored.
        """
        with self._lock:  # the count is shared by the SMTP loop and the send API's threads
            with self._transaction() as conn:
                ids = [self._insert_delivery(conn, delivery) for delivery in batch]
                pruned = self._prune_messages(conn, self._count + len(batch))
            self._count += len(batch) - len(pruned)  # once committed: a rollback changes nothing
        if pruned:  # pruned within the insert's transaction: no change of their own is published
            self._counts.stale()
        self.last_message_at = time.monotonic()
        for delivery, message_id in zip(batch, ids, strict=True):
            self._note_mailed(delivery.new.session_id, pruned)
            self.feed.publish("message", (message_id,), delivery.new.inbox)
        return ids

    def add_messages_unless_busy(self, batch: Sequence[Delivery]) -> list[int] | None:
        """Commit like add_messages, or return None at once while another thread writes."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self.add_messages(batch)
        finally:
            self._lock.release()

    def import_messages(
        self, batch: Sequence[NewMessage], keep_duplicates: bool = False
    ) -> list[int | None]:
        """Commit imported messages in one transaction; return their ids (None: skipped).

        Unless `keep_duplicates`, a message with the Message-ID and the exact bytes of one
        already stored (or earlier in the batch: the same transaction sees it) is skipped.
        """
        with self._transaction() as conn:
            ids: list[int | None] = []
            for new in batch:
                skip = not keep_duplicates and is_duplicate(conn, new)
                ids.append(None if skip else self._insert_delivery(conn, Delivery(new)))
            stored = [i for i in ids if i is not None]
            pruned = self._prune_messages(conn, self._count + len(stored))
        self._count += len(stored) - len(pruned)
        if pruned:
            self._counts.stale()
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

    def _insert_delivery(self, conn: sqlite3.Connection, delivery: Delivery) -> int:
        message_id = self._insert_message(conn, delivery.new)
        sid = delivery.new.session_id
        if sid is not None:
            mailed = {"kept_mail": 1} if sid not in self._mailed else None
            self._flush_session(conn, sid, delivery.transcript, delivery.facts, delivery.problems,
                                mailed)  # fmt: skip
        return message_id

    def _insert_message(self, conn: sqlite3.Connection, new: NewMessage) -> int:
        s = new.summary
        cur = conn.execute(
            "INSERT INTO messages (inbox, session_id, received_at, mail_from, mail_options,"
            " rcpt_to, subject, from_json, to_json, cc_json, reply_to_json, message_id, date,"
            " size, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.inbox, new.session_id, new.received_at, new.mail_from,
                json.dumps(new.mail_options), json.dumps(new.rcpt_to), s.subject,
                mailbox_json(s.from_), mailboxes_json(s.to), mailboxes_json(s.cc),
                mailboxes_json(s.reply_to), s.message_id, s.date, len(new.raw),
                warnings_json(new.warnings),
            ),
        )  # fmt: skip
        message_id = int(cur.lastrowid or 0)
        conn.execute("INSERT INTO message_raw (id, data) VALUES (?, ?)", (message_id, new.raw))
        if new.tags:
            insert_tags(conn, message_id, new.tags)
        return message_id

    def _prune_messages(self, conn: sqlite3.Connection, count: int) -> list[int | None]:
        """Delete the oldest messages past --max-messages, counting them (never silently).

        Returns the sessions of the pruned messages.
        """
        excess = count - self.max_messages if self.max_messages else 0
        if excess <= 0:
            return []
        rows = self._delete_where(conn, "id IN (SELECT id FROM messages ORDER BY id LIMIT ?)",
                                  (excess,))  # fmt: skip
        self._bump(conn, "pruned_messages", len(rows))
        return [session for _, session in rows]

    def _delete_where(
        self, conn: sqlite3.Connection, where: str, params: tuple[object, ...]
    ) -> list[tuple[int, int | None]]:
        """Delete messages; sessions left without kept mail become prunable.

        Return (id, session id) of each message deleted.
        """
        found = conn.execute(f"DELETE FROM messages WHERE {where} RETURNING id, session_id", params)
        rows: list[tuple[int, int | None]] = [(row[0], row[1]) for row in found.fetchall()]
        sessions = [session for _, session in rows]
        for sid in {s for s in sessions if s is not None}:
            conn.execute(
                "UPDATE sessions SET kept_mail = 0 WHERE id = ?"
                " AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = ?)",
                (sid, sid),
            )
        return rows

    def _note_mailed(self, added: int | None, emptied: list[int | None]) -> None:
        """Remember which sessions are marked as having kept mail (saves an UPDATE a message)."""
        if len(self._mailed) > 100_000:
            self._mailed.clear()  # bounded memory; forgetting only costs a redundant UPDATE
        self._mailed.difference_update(emptied)
        if added is not None and added not in emptied:
            self._mailed.add(added)

    def get_message(self, message_id: int) -> MessageRecord | None:
        """Return one message's stored fields, or None."""
        conn = self._read()
        row = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            return None
        record = message_from_row(row)
        self.attach_tags(conn, [record])
        return record

    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None."""
        row = (
            self._read()
            .execute("SELECT data FROM message_raw WHERE id = ?", (message_id,))
            .fetchone()
        )
        return bytes(row[0]) if row else None

    def raw_start(self, message_id: int, size: int) -> bytes | None:
        """Return the first `size` bytes received, reading no more of the row than that."""
        conn = self._read()
        try:
            with conn.blobopen("message_raw", "data", message_id, readonly=True) as blob:
                return blob.read(size)
        except sqlite3.OperationalError as error:
            if "no such rowid" in str(error):
                return None
            raise  # as raw() would: anything else is not "no such message"

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
            total = self._counts.count(conn, query, inbox, after)
            rows = conn.execute(*page_sql(MESSAGE_COLUMNS, query, inbox, before, after, limit))
            records = [message_from_row(row) for row in rows.fetchall()]
        self.attach_tags(conn, records)
        return Page(total, records)

    def count_messages(
        self, query: Query | None = None, inbox: str | None = None, after: int | None = None
    ) -> int:
        """Return how many messages match (newer than `after`)."""
        with self._searching() as conn, runnable():
            return self._counts.count(conn, query, inbox, after)

    def delete_matching(self, query: Query | None = None, inbox: str | None = None) -> int:
        """Delete the messages that match a query (in an inbox); return how many.

        The search runs on a reader, within the time limit, outside any write; the matches
        are then deleted by id, DELETE_BATCH per transaction, so the SMTP side waits for the
        writer at most one batch. Mail that arrives meanwhile is not deleted.
        """
        if not query:
            return self.clear(inbox)
        where, params = message_filters(query, inbox)
        with self._searching() as conn, runnable():
            ids = [row[0] for row in conn.execute(f"SELECT id FROM messages m {where}", params)]
        return self._delete_batches(ids, inbox)

    def set_read(self, message_id: int, read: bool) -> bool:
        """Mark a message read or unread; return False if it does not exist."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE messages SET read = ? WHERE id = ?", (read, message_id))
        if cur.rowcount:
            self.feed.publish("updated", (message_id,))
        return cur.rowcount > 0

    def delete_messages(self, ids: list[int]) -> int:
        """Delete these messages; return how many existed."""
        return self._delete_batches(ids)

    def clear(self, inbox: str | None = None) -> int:
        """Delete every message (of one inbox), in batches as delete_matching; return how many."""
        where, params = filters(inbox)
        ids = [row[0] for row in self._read().execute(f"SELECT id FROM messages {where}", params)]
        return self._delete_batches(ids, inbox)

    def _delete_batches(self, ids: Sequence[int], inbox: str | None = None) -> int:
        """Delete these messages, DELETE_BATCH per transaction; return how many existed."""
        deleted = 0
        for start in range(0, len(ids), DELETE_BATCH):
            batch = tuple(ids[start : start + DELETE_BATCH])
            marks = ", ".join("?" * len(batch))
            with self._transaction() as conn:
                rows = self._delete_where(conn, f"id IN ({marks})", batch)
            self._count -= len(rows)
            self._note_mailed(None, [session for _, session in rows])
            if rows:
                self.feed.publish("deleted", tuple(message_id for message_id, _ in rows), inbox)
            deleted += len(rows)
        return deleted

    def prune_older_than(self, cutoff: str) -> int:
        """Delete messages received before `cutoff` (--max-age), counted as pruned.

        Their sessions go too once they hold no kept message and began before the cutoff.
        Publishes `pruned` with the ids. Returns how many messages went.
        """
        with self._lock:
            with self._transaction() as conn:
                rows = self._delete_where(conn, "received_at < ?", (cutoff,))
                ids = [message_id for message_id, _ in rows]
                self._bump(conn, "pruned_messages", len(ids))
                gone = conn.execute(
                    "DELETE FROM sessions WHERE kept_mail = 0 AND started_at < ?"
                    " AND end_reason IS NOT NULL",
                    (cutoff,),
                ).rowcount
                self._bump(conn, "pruned_sessions", gone)
            self._count -= len(ids)
        self._note_mailed(None, [session for _, session in rows])
        if ids:
            self.feed.publish("pruned", tuple(ids))
        return len(ids)

    def inboxes(self) -> list[tuple[str, int, int]]:
        """Return (name, total, unread) for each inbox that holds messages or sessions."""
        rows = (
            self._read()
            .execute(
                "SELECT inbox, count(*), sum(read = 0) FROM messages GROUP BY inbox"
                " UNION SELECT inbox, 0, 0 FROM sessions"
                " WHERE inbox NOT IN (SELECT DISTINCT inbox FROM messages) GROUP BY inbox"
            )
            .fetchall()
        )
        return sorted((name, total, unread) for name, total, unread in rows)

    def stats(self) -> dict[str, int]:
        """Return counts for health reports: messages, pruned, sessions, index lag."""
        conn = self._read()
        counters = dict(conn.execute("SELECT name, value FROM counters").fetchall())
        return {
            "messages": conn.execute("SELECT count(*) FROM messages").fetchone()[0],
            "pruned": counters.get("pruned_messages", 0),
            "pruned_sessions": counters.get("pruned_sessions", 0),
            "unindexed": conn.execute("SELECT count(*) FROM messages WHERE indexed = 0").fetchone()[
                0
            ],
        }

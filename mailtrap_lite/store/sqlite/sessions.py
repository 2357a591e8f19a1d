"""Sessions and their transcripts, the half of the Store that the SMTP conversation writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from mailtrap_lite.store.interface import SessionFacts
from mailtrap_lite.store.records import SESSION_KINDS, RawLine, SessionRecord, TranscriptEntry
from mailtrap_lite.store.sqlite.core import StoreCore, filters
from mailtrap_lite.store.sqlite.rows import (
    SESSION_COLUMNS,
    session_from_row,
    transcript_entry_from_row,
)

SESSION_FACTS = frozenset({"helo", "tls_version", "tls_cipher", "auth_user", "inbox"})


class SessionStore(StoreCore):
    """Records SMTP sessions: opened, facts learnt, transcript chunks, ended; pruned by count."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_messages: int = 0,
        max_sessions: int = 0,
        read_only: bool = False,
        check: str | None = None,
        query_seconds: float = 0.0,
    ) -> None:
        super().__init__(
            path,
            max_messages=max_messages,
            max_sessions=max_sessions,
            read_only=read_only,
            check=check,
            query_seconds=query_seconds,
        )
        self._chunks: dict[int, int] = {}  # session id -> next transcript chunk number

    def open_session(self, peer: str, started_at: str, kind: str = "smtp") -> int:
        """Record a new session (SMTP, or one of SESSION_KINDS) and return its id."""
        if kind not in SESSION_KINDS:
            raise ValueError(f"unknown session kind {kind!r}; kinds: {', '.join(SESSION_KINDS)}")
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (peer, started_at, kind) VALUES (?, ?, ?)",
                (peer, started_at, kind),
            )
            session_id = int(cur.lastrowid or 0)
            self._prune_sessions(conn)
        self.feed.publish("session", (session_id,))
        return session_id

    def append_transcript(
        self, session_id: int, lines: Sequence[RawLine], facts: SessionFacts | None = None
    ) -> None:
        """Store more of an open session's transcript: a long session is written in chunks.

        Nothing is announced: the session's page shows the rest when the session ends.
        """
        with self._transaction() as conn:
            self._flush_session(conn, session_id, lines, facts)

    def end_orphaned_sessions(self) -> int:
        """Mark sessions left open by a server that died as ended by disconnect; count them.

        Only a server starting on this database calls this: no session of its own is open yet.
        """
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE sessions SET end_reason = 'disconnect' WHERE end_reason IS NULL"
            )
        return cur.rowcount

    def end_session(
        self,
        session_id: int,
        reason: str,
        ended_at: str,
        tail: Sequence[RawLine] = (),
        facts: SessionFacts | None = None,
    ) -> None:
        """Close a session, storing the rest of its transcript and what was learnt."""
        with self._transaction() as conn:
            self._flush_session(conn, session_id, tail, facts)
            conn.execute(
                "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
                (ended_at, reason, session_id),
            )
        self._chunks.pop(session_id, None)
        self.feed.publish("session", (session_id,))

    def _flush_session(
        self,
        conn: sqlite3.Connection,
        session_id: int,
        entries: Sequence[RawLine],
        facts: SessionFacts | None,
    ) -> None:
        """Write session facts (helo, tls_*, auth_user, inbox) and transcript lines."""
        if facts:
            if not facts.keys() <= SESSION_FACTS:
                raise ValueError(f"unknown session facts: {sorted(facts.keys() - SESSION_FACTS)}")
            assignments = ", ".join(f"{name} = ?" for name in facts)
            conn.execute(
                f"UPDATE sessions SET {assignments} WHERE id = ?", (*facts.values(), session_id)
            )
        if not entries:
            return
        seq = self._chunks.get(session_id, 0)
        rows = json.dumps(entries)
        conn.execute(
            "INSERT INTO transcript_chunks (session_id, seq, entries) VALUES (?, ?, ?)",
            (session_id, seq, rows),
        )
        self._chunks[session_id] = seq + 1

    def _prune_sessions(self, conn: sqlite3.Connection) -> None:
        """Keep the newest N sessions that delivered no kept message (--max-sessions)."""
        if not self.max_sessions:
            return
        cur = conn.execute(
            "DELETE FROM sessions WHERE kept_mail = 0 AND id <= (SELECT id FROM sessions"
            " WHERE kept_mail = 0 ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.max_sessions,),
        )
        if cur.rowcount > 0:
            self._bump(conn, "pruned_sessions", cur.rowcount)

    def get_session(self, session_id: int, with_transcript: bool = True) -> SessionRecord | None:
        """Return one session (with its transcript unless told not to), or None."""
        conn = self._read()
        row = conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            return None
        record = session_from_row(row, self._message_ids(conn, session_id))
        if with_transcript:
            record.transcript = self._transcript(conn, session_id)
        return record

    def list_sessions(
        self, inbox: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[SessionRecord]:
        """Return sessions newest first, without transcripts."""
        conn = self._read()
        where, params = filters(inbox, before)
        rows = conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [session_from_row(row, self._message_ids(conn, row[0])) for row in rows]

    def _message_ids(self, conn: sqlite3.Connection, session_id: int) -> list[int]:
        rows = conn.execute(
            "SELECT id FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
        ).fetchall()
        return [row[0] for row in rows]

    def _transcript(self, conn: sqlite3.Connection, session_id: int) -> list[TranscriptEntry]:
        rows = conn.execute(
            "SELECT entries FROM transcript_chunks WHERE session_id = ? ORDER BY seq",
            (session_id,),
        ).fetchall()
        return [
            transcript_entry_from_row(entry) for (chunk,) in rows for entry in json.loads(chunk)
        ]

"""Sessions and their transcripts, the half of the Store that the SMTP conversation writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from mailtrap_lite.store.interface import SessionFacts
from mailtrap_lite.store.problems import classify
from mailtrap_lite.store.records import (
    SESSION_KINDS,
    Problem,
    RawLine,
    SessionRecord,
    TranscriptEntry,
)
from mailtrap_lite.store.sqlite.core import StoreCore, filters
from mailtrap_lite.store.sqlite.rows import (
    SESSION_COLUMNS,
    problems_json,
    session_from_row,
    transcript_entry_from_row,
)

SESSION_FACTS = frozenset({"helo", "tls_version", "tls_cipher", "auth_user", "inbox"})
JUDGE_BATCH = 200  # sessions judged from their transcripts per write transaction


class SessionStore(StoreCore):
    """Records SMTP sessions: opened, facts learnt, transcript chunks, ended; pruned by count."""

    def _opened(self) -> None:
        super()._opened()
        self._chunks: dict[int, int] = {}  # session id -> next transcript chunk number
        if not self.read_only:  # a read-only store leaves judging to the server that writes it
            self._judge_unjudged()

    def open_session(self, peer: str, started_at: str, kind: str = "smtp") -> int:
        """Record a new session (SMTP, or one of SESSION_KINDS) and return its id."""
        if kind not in SESSION_KINDS:
            raise ValueError(f"unknown session kind {kind!r}; kinds: {', '.join(SESSION_KINDS)}")
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (peer, started_at, kind, problems) VALUES (?, ?, ?, '[]')",
                (peer, started_at, kind),
            )
            session_id = int(cur.lastrowid or 0)
            self._prune_sessions(conn)
        self.feed.publish("session", (session_id,))
        return session_id

    def append_transcript(
        self,
        session_id: int,
        lines: Sequence[RawLine],
        facts: SessionFacts | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        """Store more of an open session's transcript (and its problems so far, if given).

        Nothing is announced: the session's page shows the rest when the session ends.
        """
        with self._transaction() as conn:
            self._flush_session(conn, session_id, lines, facts, problems)

    def end_orphaned_sessions(self) -> int:
        """Mark sessions left open by a server that died as ended by disconnect; count them.

        Only a server starting on this database calls this: no session of its own is open yet.
        """
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE sessions SET end_reason = 'disconnect', problems = NULL"
                " WHERE end_reason IS NULL"
            )
        self._judge_unjudged()
        return cur.rowcount

    def _judge_unjudged(self) -> None:
        """Judge the sessions that have no stored problems yet from their transcripts.

        Those are sessions stored before problems were kept, and sessions whose server died
        before they ended; each is judged once, a batch per transaction.
        """
        pending = "SELECT id, end_reason FROM sessions WHERE problems IS NULL LIMIT ?"
        while True:
            with self._lock:  # a plain read first: most databases have nothing to judge
                if not self._writer.execute(pending, (1,)).fetchall():
                    return
            with self._transaction() as conn:
                for session_id, end_reason in conn.execute(pending, (JUDGE_BATCH,)).fetchall():
                    self._judge(conn, session_id, end_reason)

    def _judge(self, conn: sqlite3.Connection, session_id: int, end_reason: str | None) -> None:
        """Store what went wrong in a session, judged from its stored transcript."""
        lines = (
            (direction, line, bool(injected))
            for (chunk,) in conn.execute(
                "SELECT entries FROM transcript_chunks WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
            for _, direction, line, injected in json.loads(chunk)
        )
        problems = classify(lines, end_reason)
        conn.execute(
            "UPDATE sessions SET problems = ? WHERE id = ?", (problems_json(problems), session_id)
        )

    def end_session(
        self,
        session_id: int,
        reason: str,
        ended_at: str,
        tail: Sequence[RawLine] = (),
        facts: SessionFacts | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        """Close a session, storing the rest of its transcript, its facts and its problems.

        `problems` is what went wrong; None judges the stored transcript instead.
        """
        with self._transaction() as conn:
            ended = {"ended_at": ended_at, "end_reason": reason}
            self._flush_session(conn, session_id, tail, facts, problems, ended)
            if problems is None:
                self._judge(conn, session_id, reason)
        self._chunks.pop(session_id, None)
        self.feed.publish("session", (session_id,))

    def _flush_session(
        self,
        conn: sqlite3.Connection,
        session_id: int,
        entries: Sequence[RawLine],
        facts: SessionFacts | None,
        problems: Sequence[Problem] | None = None,
        columns: Mapping[str, object] | None = None,
    ) -> None:
        """Write session facts (helo, tls_*, auth_user, inbox), problems and transcript lines.

        `columns` are more columns of the sessions row to set. All of them are one UPDATE:
        each statement costs ~10 us on the path to a reply.
        """
        if facts and not facts.keys() <= SESSION_FACTS:
            raise ValueError(f"unknown session facts: {sorted(facts.keys() - SESSION_FACTS)}")
        assigned: dict[str, object] = {**(facts or {}), **(columns or {})}
        if problems is not None:
            assigned["problems"] = problems_json(problems)
        if assigned:
            assignments = ", ".join(f"{name} = ?" for name in assigned)
            conn.execute(
                f"UPDATE sessions SET {assignments} WHERE id = ?", (*assigned.values(), session_id)
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

    def get_session(self, session_id: int, transcript: bool = True) -> SessionRecord | None:
        """Return one session, or None; its transcript too unless `transcript` is False."""
        conn = self._read()
        row = conn.execute(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            return None
        record = session_from_row(row, self._message_ids(conn, session_id))
        if transcript:
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

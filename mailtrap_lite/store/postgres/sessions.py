"""Sessions and their transcripts in PostgreSQL, the half the SMTP conversation writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mailtrap_lite.store.interface import SessionFacts
from mailtrap_lite.store.postgres.connection import LOCK_SPACE, SESSION_PRUNE_LOCK
from mailtrap_lite.store.postgres.core import Connection, PostgresCore, filters, where_clause
from mailtrap_lite.store.problems import classify
from mailtrap_lite.store.records import (
    SESSION_KINDS,
    Problem,
    RawLine,
    SessionRecord,
    TranscriptEntry,
)
from mailtrap_lite.store.sqlite.rows import (
    SESSION_COLUMNS,
    problems_json,
    session_from_row,
    transcript_entry_from_row,
)

SESSION_FACTS = frozenset({"helo", "tls_version", "tls_cipher", "auth_user", "inbox"})
INSERT_CHUNK = "INSERT INTO transcript_chunks (session_id, seq, entries) VALUES (%s, %s, %s)"
JUDGE_BATCH = 200  # sessions judged from their transcripts per write transaction


def nul_free(text: Any) -> Any:
    """Return text without NUL characters, which PostgreSQL's text type cannot hold."""
    return text.replace("\x00", "\ufffd") if isinstance(text, str) and "\x00" in text else text


class SessionStore(PostgresCore):
    """Records SMTP sessions: opened, facts learnt, transcript chunks, ended; pruned by count."""

    node_id: int | None = None  # this node's row in `nodes` once it serves (cluster.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunks: dict[int, int] = {}  # session id -> next transcript chunk number
        if not self.read_only:  # a read-only store leaves judging to the server that writes
            try:
                self._judge_unjudged()
            except BaseException:
                self.close()  # the pool's threads must not outlive a store that failed to open
                raise

    def open_session(self, peer: str, started_at: str, kind: str = "smtp") -> int:
        """Record a new session (SMTP, or one of SESSION_KINDS) and return its id."""
        if kind not in SESSION_KINDS:
            raise ValueError(f"unknown session kind {kind!r}; kinds: {', '.join(SESSION_KINDS)}")
        with self._transaction() as conn:
            row = conn.execute(
                "INSERT INTO sessions (peer, started_at, kind, problems, node_id)"
                " VALUES (%s, %s, %s, '[]', %s) RETURNING id",
                (nul_free(peer), started_at, kind, self.node_id),
            ).fetchone()
            assert row is not None
            session_id = int(row[0])
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

    def _judge_unjudged(self) -> None:
        """Judge the sessions that have no stored problems yet from their transcripts.

        Those are sessions copied from a store that kept no problems, and sessions whose
        server died before they ended; each is judged once, a batch per transaction.
        """
        pending = "SELECT id, end_reason FROM sessions WHERE problems IS NULL LIMIT %s"
        while True:
            with self._read() as conn:  # a plain read first: most databases have none
                if not conn.execute(pending, (1,)).fetchall():
                    return
            with self._transaction() as conn:
                for session_id, end_reason in conn.execute(
                    pending + " FOR UPDATE SKIP LOCKED", (JUDGE_BATCH,)
                ).fetchall():
                    self._judge(conn, session_id, end_reason)

    def _judge(self, conn: Connection, session_id: int, end_reason: str | None) -> None:
        """Store what went wrong in a session, judged from its stored transcript."""
        chunks = conn.execute(
            "SELECT entries FROM transcript_chunks WHERE session_id = %s ORDER BY seq",
            (session_id,),
        ).fetchall()
        lines = (
            (direction, line, bool(injected))
            for (chunk,) in chunks
            for _, direction, line, injected in json.loads(chunk)
        )
        conn.execute(
            "UPDATE sessions SET problems = %s WHERE id = %s",
            (problems_json(classify(lines, end_reason)), session_id),
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
            self._flush_session(conn, session_id, tail, facts, problems)
            conn.execute(
                "UPDATE sessions SET ended_at = %s, end_reason = %s WHERE id = %s",
                (ended_at, reason, session_id),
            )
            if problems is None:
                self._judge(conn, session_id, reason)
        self._chunks.pop(session_id, None)
        self.feed.publish("session", (session_id,))

    def _flush_session(
        self,
        conn: Connection,
        session_id: int,
        entries: Sequence[RawLine],
        facts: SessionFacts | None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        """Write session facts (helo, tls_*, auth_user, inbox), problems and transcript lines."""
        self._write_problems(conn, session_id, problems)
        self._write_facts(conn, session_id, facts)
        chunk = self._chunk_row(session_id, entries)
        if chunk is not None:
            conn.execute(INSERT_CHUNK, chunk)

    def _write_problems(
        self, conn: Connection, session_id: int, problems: Sequence[Problem] | None
    ) -> None:
        if problems is not None:
            conn.execute(
                "UPDATE sessions SET problems = %s WHERE id = %s",
                (problems_json(problems), session_id),
            )

    def _write_facts(self, conn: Connection, session_id: int, facts: SessionFacts | None) -> None:
        if not facts:
            return
        if not facts.keys() <= SESSION_FACTS:
            raise ValueError(f"unknown session facts: {sorted(facts.keys() - SESSION_FACTS)}")
        assignments = ", ".join(f"{name} = %s" for name in facts)
        values = [nul_free(value) for value in facts.values()]
        conn.execute(f"UPDATE sessions SET {assignments} WHERE id = %s", (*values, session_id))

    def _chunk_row(
        self, session_id: int, entries: Sequence[RawLine]
    ) -> tuple[int, int, str] | None:
        """Return the next transcript chunk of a session as a row (None: nothing to add)."""
        if not entries:
            return None
        seq = self._chunks.get(session_id, 0)
        self._chunks[session_id] = seq + 1  # a rolled-back chunk only leaves a gap
        return (session_id, seq, json.dumps(entries))

    def _prune_sessions(self, conn: Connection) -> None:
        """Keep the newest N sessions that delivered no kept message (--max-sessions)."""
        if not self.max_sessions:
            return
        # One node prunes at a time (the others leave it to the next session they open): two
        # deleting the same rows at once could deadlock.
        row = conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_SPACE, SESSION_PRUNE_LOCK)
        ).fetchone()
        if not (row and row[0]):
            return
        cur = conn.execute(
            "DELETE FROM sessions WHERE NOT kept_mail AND id <= (SELECT id FROM sessions"
            " WHERE NOT kept_mail ORDER BY id DESC LIMIT 1 OFFSET %s)",
            (self.max_sessions,),
        )
        if cur.rowcount > 0:
            self._bump(conn, "pruned_sessions", cur.rowcount)

    def get_session(self, session_id: int, transcript: bool = True) -> SessionRecord | None:
        """Return one session, or None; its transcript too unless `transcript` is False."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = %s",
                (session_id,),
            ).fetchone()
            if row is None:
                return None
            record = session_from_row(row, self._message_ids(conn, [session_id])[session_id])
            if transcript:
                record.transcript = self._transcript(conn, session_id)
        return record

    def list_sessions(
        self, inbox: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[SessionRecord]:
        """Return sessions newest first, without transcripts."""
        clauses, params = filters(inbox, before)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {SESSION_COLUMNS} FROM sessions {where_clause(clauses)}"
                " ORDER BY id DESC LIMIT %s",
                (*params, limit),
            ).fetchall()
            ids = self._message_ids(conn, [row[0] for row in rows])
        return [session_from_row(row, ids[row[0]]) for row in rows]

    def _message_ids(self, conn: Connection, session_ids: list[int]) -> dict[int, list[int]]:
        """Return each session's message ids, oldest first (one query for a page)."""
        found: dict[int, list[int]] = {sid: [] for sid in session_ids}
        rows = conn.execute(
            "SELECT session_id, id FROM messages WHERE session_id = ANY(%s) ORDER BY id",
            (session_ids,),
        )
        for session_id, message_id in rows:
            found[session_id].append(message_id)
        return found

    def _transcript(self, conn: Connection, session_id: int) -> list[TranscriptEntry]:
        rows = conn.execute(
            "SELECT entries FROM transcript_chunks WHERE session_id = %s ORDER BY seq",
            (session_id,),
        ).fetchall()
        return [
            transcript_entry_from_row(entry) for (chunk,) in rows for entry in json.loads(chunk)
        ]

"""Reading sessions in tests once the server has finished recording them."""

from __future__ import annotations

from mailtrap_lite.store.records import SessionRecord
from mailtrap_lite.testing import Sink
from tests.sessionwait import ended_sessions, transcript_of


def ended_session(sink: Sink, session_id: int | None = None, timeout: float = 5.0) -> SessionRecord:
    """Return a session (the newest when no id is given) once it has ended, with transcript."""
    assert sink.store is not None
    if session_id is None:
        [newest] = sink.store.list_sessions(limit=1)
        session_id = newest.id
    [found] = ended_sessions(sink, 1, timeout, where=lambda s: s.id == session_id)
    return transcript_of(sink, found)

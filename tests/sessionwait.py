"""Waiting for SMTP sessions to be recorded as ended (their end is stored after the close)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mailtrap_lite.store.records import SessionRecord
from mailtrap_lite.testing import Sink


def ended_sessions(
    sink: Sink,
    count: int = 1,
    timeout: float = 5.0,
    where: Callable[[SessionRecord], bool] | None = None,
) -> list[SessionRecord]:
    """Wait until at least `count` matching ended sessions exist; return them, oldest first."""
    store = sink.store
    assert store is not None
    deadline = time.monotonic() + timeout
    while True:
        seen = store.feed.seq
        ended = [s for s in store.list_sessions(limit=100_000) if s.end_reason is not None]
        found = [s for s in reversed(ended) if where is None or where(s)]
        if len(found) >= count:
            return found
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reasons = [s.end_reason for s in ended]
            raise AssertionError(f"expected {count} ended session(s), found {reasons}")
        store.feed.wait(seen, remaining)


def transcript_of(sink: Sink, session: SessionRecord) -> SessionRecord:
    """Return the session again, with its transcript."""
    assert sink.store is not None
    full = sink.store.get_session(session.id)
    assert full is not None and full.transcript is not None
    return full


def last_session(sink: Sink) -> SessionRecord:
    """Wait for the newest session to end and return it with its transcript."""
    assert sink.store is not None
    [newest] = sink.store.list_sessions(limit=1)
    [ended] = ended_sessions(sink, where=lambda s: s.id == newest.id)
    return transcript_of(sink, ended)

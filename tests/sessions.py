"""Reading sessions in tests once the server has finished recording them."""

from __future__ import annotations

import time

from mailtrap_lite.records import SessionRecord
from mailtrap_lite.testing import Sink


def ended_session(sink: Sink, session_id: int | None = None, timeout: float = 5.0) -> SessionRecord:
    """Return a session (the newest when no id is given) once it has ended."""
    assert sink.store is not None
    deadline = time.monotonic() + timeout
    while True:
        newest = sink.store.list_sessions(limit=1)
        sid = session_id if session_id is not None else newest[0].id if newest else None
        record = sink.store.get_session(sid) if sid is not None else None
        if record is not None and record.end_reason is not None:
            return record
        assert time.monotonic() < deadline, "the session did not end"
        time.sleep(0.01)

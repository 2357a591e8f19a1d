"""How the UI shows an SMTP session: a transcript with relative times, and its duration.

What went wrong in a session is judged in the core (mailtrap_lite.store.problems) and stored
with it, so the pages read it from the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailtrap_lite.store.records import SessionRecord, TranscriptEntry


@dataclass
class TranscriptLine:
    """One transcript line ready to show: offset from the start, side, reply class, fault."""

    offset: str
    direction: str
    line: str
    injected: bool
    reply_class: str  # "2xx".."5xx" for server replies, "" otherwise


def parse_time(text: str) -> dt.datetime:
    """Parse the Store's RFC 3339 UTC times."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def reply_class(entry: TranscriptEntry) -> str:
    """Return "2xx".."5xx" for a server reply line, "" for anything else."""
    code = entry.line[:1]
    if entry.direction != "server" or code not in "2345" or not code:
        return ""
    return f"{code}xx"


def transcript_lines(
    session: SessionRecord, first: int = 0, count: int | None = None
) -> list[TranscriptLine]:
    """Return `count` lines of the transcript from line `first` (0-based), with times
    relative to the session start (seconds)."""
    start = parse_time(session.started_at)
    entries = session.transcript or []
    return [
        TranscriptLine(
            offset=f"+{(parse_time(e.at) - start).total_seconds():.3f}s",
            direction=e.direction,
            line=e.line,
            injected=e.injected,
            reply_class=reply_class(e),
        )
        for e in entries[first : None if count is None else first + count]
    ]


def duration(session: SessionRecord) -> str:
    """Return how long the session lasted, or "open"."""
    if session.ended_at is None:
        return "open"
    seconds = (parse_time(session.ended_at) - parse_time(session.started_at)).total_seconds()
    return f"{seconds:.3f}s" if seconds < 60 else f"{seconds / 60:.1f}min"

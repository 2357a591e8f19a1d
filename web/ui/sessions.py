"""How the UI reads an SMTP session: what went wrong, and a transcript with relative times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailtrap_lite.store.records import SessionRecord, TranscriptEntry

# Endings other than QUIT (and a clean server shutdown) mean the client never finished.
ABRUPT_ENDINGS = {
    "disconnect": "the client disconnected without QUIT",
    "timeout": "the session timed out",
    "limit": "a server limit closed the session",
    "node-lost": "the node serving the session was lost (killed or cut off)",
}


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


def transcript_lines(session: SessionRecord) -> list[TranscriptLine]:
    """Return the transcript with times relative to the session start (seconds)."""
    start = parse_time(session.started_at)
    return [
        TranscriptLine(
            offset=f"+{(parse_time(e.at) - start).total_seconds():.3f}s",
            direction=e.direction,
            line=e.line,
            injected=e.injected,
            reply_class=reply_class(e),
        )
        for e in session.transcript or []
    ]


def problems(session: SessionRecord) -> list[str]:
    """Return why this session counts as failed (empty when it went well)."""
    found: list[str] = []
    entries = session.transcript or []
    failed_auth = _failed_auth(entries)
    if failed_auth:
        found.append(f"AUTH failed: {failed_auth}")
    rejected = [e.line for e in entries if reply_class(e) == "5xx" and e.line != failed_auth]
    if rejected:
        found.append(f"{len(rejected)} permanent failure(s), first: {rejected[0]}")
    temporary = [e.line for e in entries if reply_class(e) == "4xx"]
    if temporary:
        found.append(f"{len(temporary)} temporary failure(s), first: {temporary[0]}")
    injected = sum(1 for e in entries if e.injected)
    if injected:
        found.append(f"{injected} injected fault(s)")
    if session.end_reason in ABRUPT_ENDINGS:
        found.append(ABRUPT_ENDINGS[session.end_reason])
    return found


def _failed_auth(entries: list[TranscriptEntry]) -> str | None:
    """Return the last reply to AUTH if AUTH was tried and never succeeded (RFC 4954 §6)."""
    in_auth = False
    failure: str | None = None
    for entry in entries:
        if entry.direction == "client" and entry.line[:5].upper() == "AUTH ":
            in_auth = True
        elif in_auth and entry.direction == "server" and not entry.line.startswith("334"):
            if entry.line.startswith("235"):
                return None
            failure, in_auth = entry.line, False
    return failure


def duration(session: SessionRecord) -> str:
    """Return how long the session lasted, or "open"."""
    if session.ended_at is None:
        return "open"
    seconds = (parse_time(session.ended_at) - parse_time(session.started_at)).total_seconds()
    return f"{seconds:.3f}s" if seconds < 60 else f"{seconds / 60:.1f}min"

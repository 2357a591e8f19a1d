"""The records the Store takes and gives: plain data, with their JSON shapes (INTERFACE.md)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from mailtrap_lite.mime.headers import Mailbox, Summary, rfc3339


@dataclass(frozen=True)
class Warning_:
    """Something the message does that a strict server would refuse (a stable code + text)."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# A transcript line as recorded on the hot path: (unix time, direction, line, injected).
# Formatting the time costs more than the rest of the recording, so it waits until read.
RawLine = tuple[float, str, str, bool]


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of an SMTP conversation as it crossed the wire."""

    at: str
    direction: str  # "client" or "server"
    line: str
    injected: bool = False

    @classmethod
    def from_raw(cls, raw: list[Any]) -> TranscriptEntry:
        """Build an entry from a stored (unix time, direction, line, injected) row."""
        at, direction, line, injected = raw
        when = dt.datetime.fromtimestamp(at, dt.UTC)
        return cls(rfc3339(when), direction, line, bool(injected))

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "direction": self.direction,
            "line": self.line,
            "injected": self.injected,
        }


@dataclass
class NewMessage:
    """What the capture handler hands to the Store after DATA."""

    raw: bytes
    mail_from: str
    rcpt_to: list[str]
    session_id: int | None
    inbox: str
    received_at: str
    summary: Summary
    mail_options: list[str] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)


@dataclass
class MessageRecord:
    """A stored message as listed: the summary fields of INTERFACE.md and a few more."""

    id: int
    inbox: str
    session_id: int | None
    received_at: str
    mail_from: str
    mail_options: list[str]
    rcpt_to: list[str]
    subject: str
    from_: Mailbox | None
    to: list[Mailbox]
    cc: list[Mailbox]
    reply_to: list[Mailbox]
    message_id: str | None
    date: str | None
    size: int
    read: bool
    warnings: list[Warning_]
    attachment_count: int | None
    snippet: str | None
    indexed: bool

    @property
    def bcc(self) -> list[str]:
        """Return the envelope recipients absent from To and Cc (blind copies)."""
        seen = {m.address.lower() for m in self.to + self.cc}
        return [r for r in self.rcpt_to if r.lower() not in seen]

    def summary_json(self) -> dict[str, Any]:
        """Return the summary shape of INTERFACE.md."""
        return {
            "id": str(self.id),
            "inbox": self.inbox,
            "received_at": self.received_at,
            "mail_from": self.mail_from,
            "rcpt_to": list(self.rcpt_to),
            "from": self.from_.to_json() if self.from_ else None,
            "to": [m.to_json() for m in self.to],
            "cc": [m.to_json() for m in self.cc],
            "subject": self.subject,
            "size": self.size,
            "attachment_count": self.attachment_count or 0,
            "read": self.read,
            "snippet": self.snippet or "",
            "session_id": str(self.session_id) if self.session_id is not None else None,
        }


@dataclass
class SessionRecord:
    """A stored SMTP session; `transcript` is filled only when one session is asked for."""

    id: int
    inbox: str
    peer: str
    helo: str | None
    tls_version: str | None
    tls_cipher: str | None
    auth_user: str | None
    started_at: str
    ended_at: str | None
    end_reason: str | None
    message_ids: list[int]
    transcript: list[TranscriptEntry] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the session shape of INTERFACE.md (with transcript when loaded)."""
        tls = {"version": self.tls_version, "cipher": self.tls_cipher} if self.tls_version else None
        data: dict[str, Any] = {
            "id": str(self.id),
            "inbox": self.inbox,
            "peer": self.peer,
            "helo": self.helo,
            "tls": tls,
            "auth_user": self.auth_user,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "message_ids": [str(i) for i in self.message_ids],
        }
        if self.transcript is not None:
            data["transcript"] = [e.to_json() for e in self.transcript]
        return data


def mailbox_json(box: Mailbox | None) -> str | None:
    """Encode a mailbox for a JSON column."""
    return json.dumps([box.name, box.address]) if box else None


def mailboxes_json(boxes: list[Mailbox]) -> str:
    """Encode mailboxes for a JSON column."""
    return json.dumps([[b.name, b.address] for b in boxes])


def mailbox_from_json(text: str | None) -> Mailbox | None:
    """Decode a mailbox column."""
    if not text:
        return None
    name, address = json.loads(text)
    return Mailbox(name, address)


def mailboxes_from_json(text: str) -> list[Mailbox]:
    """Decode a mailboxes column."""
    return [Mailbox(name, address) for name, address in json.loads(text)]

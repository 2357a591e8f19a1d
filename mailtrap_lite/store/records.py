"""The records the Store takes and gives: plain data (the API's JSON shapes are in web)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtrap_lite.mime.headers import Mailbox, Summary


@dataclass(frozen=True)
class Warning_:
    """Something the message does that a strict server would refuse (a stable code + text)."""

    code: str
    message: str


@dataclass(frozen=True)
class Problem:
    """Something that went wrong in a session: a stable code and a sentence for people."""

    code: str
    text: str


# What opened a session: an SMTP client, the send API, an import, or a release to a server.
SESSION_KINDS = ("smtp", "api", "import", "outgoing")

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
    tags: list[str] = field(default_factory=list)  # stored with the message, in its commit


@dataclass(frozen=True)
class StoredMessage:
    """A message as an export reads it: its exact bytes and what an archive keeps beside."""

    id: int
    inbox: str
    session_id: int | None
    received_at: str
    mail_from: str
    rcpt_to: list[str]
    read: bool
    raw: bytes


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
    tags: list[str] = field(default_factory=list)

    @property
    def bcc(self) -> list[str]:
        """Return the envelope recipients absent from To and Cc (blind copies)."""
        seen = {m.address.lower() for m in self.to + self.cc}
        return [r for r in self.rcpt_to if r.lower() not in seen]


@dataclass
class SessionRecord:
    """A stored SMTP session; `transcript` is filled only when one session is asked for.

    `problems` is what went wrong, judged as the session ran and once more when it ended.
    """

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
    kind: str = "smtp"  # one of SESSION_KINDS
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class ReleaseRecord:
    """One release of a message to a real SMTP server, and how the server answered."""

    message_id: int
    session_id: int | None
    released_at: str
    recipients: list[str]
    ok: bool
    reply: str

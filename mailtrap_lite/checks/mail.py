"""What the checks read: one message (raw bytes and read model), its envelope and session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mailtrap_lite.message import Message
from mailtrap_lite.mime.headers import Mailbox, parse_mailboxes
from mailtrap_lite.store.records import SessionRecord


@dataclass(frozen=True)
class Envelope:
    """What the SMTP client said in MAIL FROM and RCPT TO."""

    mail_from: str
    rcpt_to: tuple[str, ...]
    mail_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedMail:
    """A message under check. A file has neither envelope nor session; stored mail has both."""

    raw: bytes
    message: Message
    received_at: dt.datetime  # when it arrived (a file: when it is checked)
    envelope: Envelope | None = None
    session: SessionRecord | None = None
    from_boxes: list[Mailbox] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        raw: bytes,
        message: Message,
        received_at: dt.datetime,
        envelope: Envelope | None = None,
        session: SessionRecord | None = None,
    ) -> CheckedMail:
        """Return the mail with its From mailboxes read once."""
        boxes = [box for value in message.header_values("From") for box in parse_mailboxes(value)]
        return cls(raw, message, received_at, envelope, session, boxes)

    def header(self, name: str) -> str | None:
        """Return the first decoded value of a header, or None."""
        values = self.message.header_values(name)
        return values[0] if values else None

    @property
    def from_domain(self) -> str | None:
        """Return the domain of the single From address (None when there is not exactly one)."""
        if len(self.from_boxes) != 1:
            return None
        local, at, domain = self.from_boxes[0].address.rpartition("@")
        return domain.lower().rstrip(".") if at and local and domain else None

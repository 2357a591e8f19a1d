"""What the SMTP side tells an observer (counts, metrics): replies, messages, session ends.

The protocol calls these on the event loop for every reply, so an observer must be cheap
and must never block; the default one does nothing.
"""

from __future__ import annotations

# Commands counted by name; anything else a client sends is counted as OTHER, so a client
# cannot grow the number of metric series by inventing verbs.
COMMANDS = frozenset({"HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY",
                      "EXPN", "HELP", "AUTH", "STARTTLS", "BDAT"})  # fmt: skip


def command_label(command: str | None) -> str:
    """Return the label a reply is counted under: the command it answers, or CONNECT."""
    if command is None:
        return "CONNECT"
    return command if command in COMMANDS else "OTHER"


class SMTPObserver:
    """Receives SMTP events; subclass and override what you count."""

    def reply(self, command: str | None, text: str) -> None:
        """A reply line was sent, answering `command` (None: the greeting)."""

    def ingested(self, seconds: float) -> None:
        """A message was committed: `seconds` from the end of its DATA to its 250 reply."""

    def accepted(self, size: int) -> None:
        """A message of `size` bytes was committed and acknowledged (SMTP or the send API)."""

    def session_ended(self, reason: str) -> None:
        """A session ended: quit, disconnect, timeout, limit or shutdown."""


class ObserverGroup(SMTPObserver):
    """Tells each of several observers every event (the runtime counts and the metrics)."""

    def __init__(self, *observers: SMTPObserver) -> None:
        self.observers = observers

    def reply(self, command: str | None, text: str) -> None:
        """Tell each observer of a reply."""
        for observer in self.observers:
            observer.reply(command, text)

    def ingested(self, seconds: float) -> None:
        """Tell each observer of a commit's ingest time."""
        for observer in self.observers:
            observer.ingested(seconds)

    def accepted(self, size: int) -> None:
        """Tell each observer of an accepted message."""
        for observer in self.observers:
            observer.accepted(size)

    def session_ended(self, reason: str) -> None:
        """Tell each observer of a session's end."""
        for observer in self.observers:
            observer.session_ended(reason)

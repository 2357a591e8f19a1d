"""What the readers yield: a message with what its source knew, or a failure with its place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    """One message read from a source, its bytes exactly as they were stored there."""

    raw: bytes
    where: str  # "inbox.mbox: message 3 (line 120)", "dump/abc.eml", "all.zip:7.eml"
    received_at: str | None = None  # the source's own record: separator line, Created, ...
    mail_from: str | None = None  # the envelope sender, when the source kept it
    rcpt_to: list[str] | None = None  # the envelope recipients, when the source kept them


@dataclass
class Failure:
    """A message or file that could not be read: where, why, and a short kind for summaries."""

    where: str
    reason: str
    kind: str  # "not-mbox", "truncated", "too-large", ... (grouped in the summary line)
    ordinal: int | None = None  # the message's number in its file, where it has one

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class TransferError(Exception):
    """A whole run cannot go on (an output that exists, a server that refuses); one line."""

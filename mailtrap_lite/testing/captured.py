"""A captured message as tests see it: envelope, headers, decoded body and helpers.

The summary fields come from the stored record; the raw bytes, the MIME parse and the SMTP
session are loaded on first use, so listing many messages stays cheap.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from typing import Protocol

from mailtrap_lite.checks import Report
from mailtrap_lite.message import Message
from mailtrap_lite.mime.body import parse_message
from mailtrap_lite.mime.htmltext import html_to_text
from mailtrap_lite.store.records import MessageRecord, SessionRecord, Warning_


class MessageSource(Protocol):
    """Where a captured message loads its bytes, read model and session (the Store fits)."""

    def raw(self, message_id: int) -> bytes | None: ...

    def read_message(self, message_id: int) -> Message | None: ...

    def get_session(self, session_id: int) -> SessionRecord | None: ...

    def report(self, message_id: int) -> Report | None: ...


class MessageGone(LookupError):
    """The message was deleted or pruned before its content was read."""


class ExtractionError(AssertionError):
    """Not exactly one link or code was found; the message lists the candidates."""


def exactly_one(kind: str, candidates: list[str], wanted: str, where: str) -> str:
    """Return the single candidate or fail, listing what was found."""
    __tracebackhide__ = True
    if len(candidates) == 1:
        return candidates[0]
    listed = "".join(f"\n  {c}" for c in candidates) if candidates else " none"
    raise ExtractionError(
        f"expected exactly one {kind}{wanted} in {where}, found {len(candidates)}:{listed}"
    )


@dataclass(frozen=True)
class CapturedAttachment:
    """One attachment: its file name, content type and decoded bytes."""

    filename: str | None
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


class CapturedMessage:
    """One message of a sink, with the envelope kept apart from the headers."""

    def __init__(self, record: MessageRecord, source: MessageSource) -> None:
        self.record = record
        self._source = source

    def __repr__(self) -> str:
        return f"<CapturedMessage #{self.id} from {self.from_!r} subject {self.subject!r}>"

    # -- summary fields (no I/O) -----------------------------------------------------------

    @property
    def id(self) -> int:
        """Return the store's message id (increasing in commit order)."""
        return self.record.id

    @property
    def inbox(self) -> str:
        """Return the inbox the message went to (the SMTP AUTH user, or "default")."""
        return self.record.inbox

    @property
    def tags(self) -> list[str]:
        """Return the message's tags when it was listed (X-Tags, plus-addresses, by hand).

        Tags from --tag rules are added just after the message is indexed; read a fresh
        copy (wait_for again) to see those.
        """
        return list(self.record.tags)

    @property
    def read(self) -> bool:
        """Say whether the message is marked read."""
        return self.record.read

    @property
    def mail_from(self) -> str:
        """Return the envelope sender (MAIL FROM)."""
        return self.record.mail_from

    @property
    def rcpt_to(self) -> list[str]:
        """Return the envelope recipients (RCPT TO), Bcc included."""
        return list(self.record.rcpt_to)

    @property
    def subject(self) -> str:
        """Return the decoded Subject, "" when missing."""
        return self.record.subject

    @property
    def from_(self) -> str | None:
        """Return the From header's address."""
        return self.record.from_.address if self.record.from_ else None

    @property
    def to(self) -> list[str]:
        """Return the To header's addresses."""
        return [m.address for m in self.record.to]

    @property
    def cc(self) -> list[str]:
        """Return the Cc header's addresses."""
        return [m.address for m in self.record.cc]

    @property
    def bcc(self) -> list[str]:
        """Return the envelope recipients absent from To and Cc."""
        return self.record.bcc

    @property
    def reply_to(self) -> list[str]:
        """Return the Reply-To header's addresses."""
        return [m.address for m in self.record.reply_to]

    @property
    def message_id(self) -> str | None:
        """Return the Message-ID header."""
        return self.record.message_id

    @property
    def date(self) -> dt.datetime | None:
        """Return the Date header as an aware UTC datetime, or None."""
        return _when(self.record.date) if self.record.date else None

    @property
    def received_at(self) -> dt.datetime:
        """Return when the message was committed (UTC)."""
        return _when(self.record.received_at)

    @property
    def size(self) -> int:
        """Return the size of the raw message in bytes."""
        return self.record.size

    @property
    def warnings(self) -> list[Warning_]:
        """Return what a strict server would have refused (code and explanation)."""
        return list(self.record.warnings)

    @property
    def session_id(self) -> int | None:
        """Return the id of the SMTP session that delivered the message."""
        return self.record.session_id

    # -- content (loaded on first use) -----------------------------------------------------

    @cached_property
    def raw(self) -> bytes:
        """Return the exact bytes received."""
        data = self._source.raw(self.id)
        if data is None:
            raise MessageGone(f"message #{self.id} is no longer stored (deleted or pruned)")
        return data

    @cached_property
    def headers(self) -> EmailMessage:
        """Return the whole message parsed with email.policy.default."""
        return parse_message(self.raw)

    @cached_property
    def parsed(self) -> Message:
        """Return the read model every surface shares (text, HTML, parts, links)."""
        found = self._source.read_message(self.id)
        if found is None:
            raise MessageGone(f"message #{self.id} is no longer stored (deleted or pruned)")
        return found

    @property
    def text(self) -> str | None:
        """Return the decoded text/plain body."""
        return self.parsed.text

    @property
    def html(self) -> str | None:
        """Return the decoded text/html body."""
        return self.parsed.html

    @cached_property
    def attachments(self) -> list[CapturedAttachment]:
        """Return the attachments and inline parts, decoded."""
        return [
            CapturedAttachment(a.filename, a.content_type, a.data, a.inline, a.content_id)
            for a in self.parsed.attachments
        ]

    @property
    def decoded_headers(self) -> list[tuple[str, str]]:
        """Return every header as (name, decoded value), in order."""
        return self.parsed.headers

    def header_values(self, name: str) -> list[str]:
        """Return the decoded values of every header with this name."""
        return self.parsed.header_values(name)

    @cached_property
    def session(self) -> SessionRecord:
        """Return the SMTP session that delivered the message, with its transcript."""
        found = self._source.get_session(self.session_id) if self.session_id else None
        if found is None:
            raise MessageGone(f"the session of message #{self.id} is no longer stored")
        return found

    def checks(self) -> Report:
        """Return the deliverability report: `.checks` (failing first), `.summary`, `.failures`."""
        found = self._source.report(self.id)
        if found is None:
            raise MessageGone(f"message #{self.id} is no longer stored (deleted or pruned)")
        return found

    # -- helpers ---------------------------------------------------------------------------

    @property
    def readable_text(self) -> str:
        """Return the text body, or the HTML body's text when there is no text part."""
        return self.parsed.readable_text

    def body_contains(self, needle: str) -> bool:
        """Say whether the text or the HTML body (markup or its text) contains `needle`."""
        html = self.html or ""
        return needle in (self.text or "") or needle in html or needle in html_to_text(html)

    def links(self) -> list[str]:
        """Return the http(s) links: HTML hrefs, then URLs in the text, de-duplicated."""
        return self.parsed.web_links()

    def link(self, contains: str | None = None) -> str:
        """Return the one link (containing `contains`), or fail listing the candidates."""
        __tracebackhide__ = True
        found = [u for u in self.links() if contains is None or contains in u]
        wanted = f" containing {contains!r}" if contains is not None else ""
        return exactly_one("link", found, wanted, self._where())

    def codes(self, pattern: str | re.Pattern[str] | None = None) -> list[str]:
        """Return the distinct codes in the text (default: 4 to 8 digits, not dates)."""
        return self.parsed.codes(pattern)

    def code(self, pattern: str | re.Pattern[str] | None = None) -> str:
        """Return the one code in the text, or fail listing the candidates."""
        __tracebackhide__ = True
        shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
        wanted = f" matching {shown!r}" if pattern is not None else ""
        return exactly_one("code", self.codes(pattern), wanted, self._where())

    def _where(self) -> str:
        return f"message #{self.id} {self.subject!r}"


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

"""The SQLite store's column formats: column lists, row decoding and JSON column encoding.

These are the database's own formats; the API's JSON shapes live in the web layer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from mailtrap_lite.mime.headers import Mailbox, rfc3339
from mailtrap_lite.store.records import (
    MessageRecord,
    Problem,
    SessionRecord,
    TranscriptEntry,
    Warning_,
)

MESSAGE_COLUMNS = (
    "id, inbox, session_id, received_at, mail_from, mail_options, rcpt_to, subject, from_json,"
    " to_json, cc_json, reply_to_json, message_id, date, size, read, warnings,"
    " attachment_count, snippet, indexed"
)

SESSION_COLUMNS = (
    "id, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at, end_reason,"
    " kind, problems"
)


def message_from_row(row: tuple[Any, ...]) -> MessageRecord:
    """Build a MessageRecord from a row selected with MESSAGE_COLUMNS."""
    (mid, inbox, session_id, received_at, mail_from, mail_options, rcpt_to, subject, from_json,
     to_json, cc_json, reply_to_json, message_id, date, size, read, warnings,
     attachment_count, snippet, indexed) = row  # fmt: skip
    return MessageRecord(
        id=mid,
        inbox=inbox,
        session_id=session_id,
        received_at=received_at,
        mail_from=mail_from,
        mail_options=json.loads(mail_options),
        rcpt_to=json.loads(rcpt_to),
        subject=subject,
        from_=mailbox_from_json(from_json),
        to=mailboxes_from_json(to_json),
        cc=mailboxes_from_json(cc_json),
        reply_to=mailboxes_from_json(reply_to_json),
        message_id=message_id,
        date=date,
        size=size,
        read=bool(read),
        warnings=warnings_from_json(warnings),
        attachment_count=attachment_count,
        snippet=snippet,
        indexed=bool(indexed),
    )


def session_from_row(row: tuple[Any, ...], message_ids: list[int]) -> SessionRecord:
    """Build a SessionRecord (without transcript) from a row selected with SESSION_COLUMNS."""
    (sid, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at,
     end_reason, kind, problems) = row  # fmt: skip
    return SessionRecord(
        sid, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at,
        end_reason, message_ids, kind=kind, problems=problems_from_json(problems),
    )  # fmt: skip


def transcript_entry_from_row(row: list[Any]) -> TranscriptEntry:
    """Build an entry from a stored [unix time, direction, line, injected] row."""
    at, direction, line, injected = row
    when = dt.datetime.fromtimestamp(at, dt.UTC)
    return TranscriptEntry(rfc3339(when), direction, line, bool(injected))


def warnings_json(warnings: list[Warning_]) -> str:
    """Encode warnings for their JSON column: [{"code", "message"}]."""
    return json.dumps([{"code": w.code, "message": w.message} for w in warnings])


def warnings_from_json(text: str) -> list[Warning_]:
    """Decode a warnings column."""
    return [Warning_(w["code"], w["message"]) for w in json.loads(text)]


def problems_json(problems: Sequence[Problem]) -> str:
    """Encode a session's problems for their JSON column: [{"code", "text"}]."""
    return json.dumps([{"code": p.code, "text": p.text} for p in problems])


def problems_from_json(text: str | None) -> list[Problem]:
    """Decode a problems column (NULL, not judged yet, reads as none)."""
    return [Problem(p["code"], p["text"]) for p in json.loads(text)] if text else []


def mailbox_json(box: Mailbox | None) -> str | None:
    """Encode a mailbox for a JSON column: [name, address]."""
    return json.dumps([box.name, box.address]) if box else None


def mailboxes_json(boxes: list[Mailbox]) -> str:
    """Encode mailboxes for a JSON column: [[name, address], ...]."""
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

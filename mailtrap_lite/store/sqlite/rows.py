"""Column lists and row decoding shared by the Store's queries."""

from __future__ import annotations

import json
from typing import Any

from mailtrap_lite.store.records import (
    MessageRecord,
    SessionRecord,
    Warning_,
    mailbox_from_json,
    mailboxes_from_json,
)

MESSAGE_COLUMNS = (
    "id, inbox, session_id, received_at, mail_from, mail_options, rcpt_to, subject, from_json,"
    " to_json, cc_json, reply_to_json, message_id, date, size, read, warnings,"
    " attachment_count, snippet, indexed"
)

SESSION_COLUMNS = (
    "id, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at, end_reason"
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
        warnings=[Warning_(**w) for w in json.loads(warnings)],
        attachment_count=attachment_count,
        snippet=snippet,
        indexed=bool(indexed),
    )


def session_from_row(row: tuple[Any, ...], message_ids: list[int]) -> SessionRecord:
    """Build a SessionRecord (without transcript) from a row selected with SESSION_COLUMNS."""
    (sid, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at,
     end_reason) = row  # fmt: skip
    return SessionRecord(
        sid, inbox, peer, helo, tls_version, tls_cipher, auth_user, started_at, ended_at,
        end_reason, message_ids,
    )  # fmt: skip

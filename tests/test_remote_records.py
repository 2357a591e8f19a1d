"""External mode reads records back from the JSON shapes of INTERFACE.md without loss."""

from __future__ import annotations

import smtplib
from typing import Any

from mailtrap_lite.message import read_message
from mailtrap_lite.store.records import MessageRecord
from mailtrap_lite.testing import Sink
from mailtrap_lite.testing.remote import message_record, session_record
from mailtrap_lite.web import shapes

RAW = (
    b"From: App <app@example.com>\r\nTo: Ada <ada@example.com>\r\nCc: cc@example.com\r\n"
    b"Reply-To: help@example.com\r\nSubject: Round trip\r\nMessage-ID: <rt@example.com>\r\n"
    b"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n"
)


def full_json(record: MessageRecord) -> dict[str, Any]:
    """The full-message shape of INTERFACE.md, as the API builds it."""
    return shapes.full_message(record, read_message(RAW))


def deliver(sink: Sink) -> MessageRecord:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.login("ada", "pw")
        client.sendmail("bounce@example.com", ["ada@example.com", "bcc@example.com"], RAW)
    [message] = sink.wait_for()
    return message.record


def test_message_record_survives_the_json_round_trip(sink: Sink) -> None:
    record = deliver(sink)
    again = message_record(full_json(record))
    fields = (
        "id",
        "inbox",
        "session_id",
        "received_at",
        "mail_from",
        "rcpt_to",
        "subject",
        "from_",
        "to",
        "cc",
        "reply_to",
        "message_id",
        "date",
        "size",
        "warnings",
    )
    assert {f: getattr(again, f) for f in fields} == {f: getattr(record, f) for f in fields}
    assert again.bcc == ["bcc@example.com"]


def test_session_record_survives_the_json_round_trip(sink: Sink) -> None:
    record = deliver(sink)
    assert sink.store is not None and record.session_id is not None
    session = sink.store.get_session(record.session_id)
    assert session is not None
    assert session_record(shapes.session(session)) == session

"""Session transcripts: every line in order, directions right, credentials masked."""

from __future__ import annotations

import base64
import smtplib

from mailtrap_lite.store.records import SessionRecord
from mailtrap_lite.testing import Sink
from tests.sessions import ended_session
from tests.wire import Wire, greet, send_data


def _lines(record: SessionRecord) -> list[tuple[str, str]]:
    assert record.transcript is not None
    return [(e.direction, e.line) for e in record.transcript]


def test_transcript_lists_both_directions_in_order(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        send_data(wire, b"Subject: t\r\n\r\nbody\r\n.\r\n")
        wire.cmd("QUIT")
    lines = _lines(ended_session(sink))
    assert lines[0][0] == "server" and lines[0][1].startswith("220 ")
    assert lines[1] == ("client", "EHLO client.test")
    client_lines = [line for direction, line in lines if direction == "client"]
    assert client_lines == [
        "EHLO client.test",
        "MAIL FROM:<a@example.com>",
        "RCPT TO:<b@example.com>",
        "DATA",
        "<message content: 20 octets>",
        "QUIT",
    ]
    assert lines[-1][0] == "server" and lines[-1][1].startswith("221 2.0.0")


def test_transcript_timestamps_do_not_go_backwards(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        wire.cmd("NOOP")
        wire.cmd("QUIT")
    record = ended_session(sink)
    assert record.transcript is not None
    stamps = [e.at for e in record.transcript]
    assert stamps == sorted(stamps)
    assert all(s.endswith("Z") for s in stamps)


def test_auth_plain_initial_response_is_masked(sink: Sink) -> None:
    secret = base64.b64encode(b"\0alice\0s3cret-password").decode()
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd(f"AUTH PLAIN {secret}").code == 235
        wire.cmd("QUIT")
    record = ended_session(sink)
    text = "\n".join(line for _, line in _lines(record))
    assert secret not in text and "s3cret" not in text
    assert ("client", "AUTH PLAIN ****") in _lines(record)
    assert record.auth_user == "alice"


def test_auth_login_challenge_answers_are_masked(sink: Sink) -> None:
    user = base64.b64encode(b"bob").decode()
    password = base64.b64encode(b"hunter2").decode()
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("AUTH LOGIN").code == 334
        assert wire.cmd(user).code == 334
        assert wire.cmd(password).code == 235
        wire.cmd("QUIT")
    lines = _lines(ended_session(sink))
    assert ("client", "AUTH LOGIN") in lines
    assert user not in str(lines) and password not in str(lines)
    assert lines.count(("client", "****")) == 2


def test_session_without_a_message_is_recorded(sink: Sink) -> None:
    with Wire(sink.host, sink.port) as wire:
        wire.reply()
        wire.cmd("EHLO quiet.test")
    record = ended_session(sink)
    assert record.helo == "quiet.test"
    assert record.message_ids == []
    assert record.end_reason == "disconnect"


def test_session_facts_and_message_ids_are_recorded(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port, local_hostname="app.test") as client:
        client.login("carol", "pw")
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: 1\r\n\r\nx\r\n")
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: 2\r\n\r\nx\r\n")
    messages = sink.wait_for(count=2)
    record = ended_session(sink)
    assert record.message_ids == [m.id for m in messages]
    assert record.helo == "app.test"
    assert record.inbox == "carol" and record.auth_user == "carol"
    assert record.end_reason == "quit"
    assert record.peer.startswith("127.0.0.1:")
    assert record.started_at <= record.ended_at  # type: ignore[operator]

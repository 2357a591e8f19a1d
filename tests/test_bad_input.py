"""Bad input gets a clear reply, never a crash, and nothing half-stored."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable

import pytest

from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessions import ended_session
from tests.wire import greet, send_data

MakeSink = Callable[..., Sink]


def _stored_raw(sink: Sink) -> bytes:
    [message] = sink.wait_for()
    assert sink.store is not None
    raw = sink.store.raw(message.id)
    assert raw is not None
    return raw


def test_oversize_message_gets_552_and_nothing_is_stored(make_sink: MakeSink) -> None:
    sink = make_sink(max_message_size=1000)
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n.\r\n")
        after = wire.cmd("NOOP")
    assert reply.code == statuscodes.EXCEEDED_STORAGE
    assert reply.lines[0].startswith("5.3.4")
    assert after.code == statuscodes.OK
    assert sink.messages() == []


def test_declared_size_over_the_limit_is_refused_at_mail(make_sink: MakeSink) -> None:
    sink = make_sink(max_message_size=1000)
    with greet(sink.host, sink.port) as wire:
        reply = wire.cmd("MAIL FROM:<s@example.com> SIZE=5000")
    assert reply.code == statuscodes.EXCEEDED_STORAGE


def test_message_at_the_size_limit_is_accepted(make_sink: MakeSink) -> None:
    body = b"Subject: fits\r\n\r\n" + b"y" * 80 + b"\r\n"
    sink = make_sink(max_message_size=len(body))
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, body + b".\r\n")
    assert reply.code == statuscodes.OK
    assert _stored_raw(sink) == body


def test_only_crlf_dot_crlf_ends_the_data(sink: Sink) -> None:
    # A bare-LF "\n.\n" must not end the data: that is how SMTP smuggling works.
    payload = b"Subject: s\r\n\r\nline\n.\nMAIL FROM:<evil@example.com>\r\nmore\r\n.\r\n"
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, payload)
    assert reply.code == statuscodes.OK
    assert _stored_raw(sink) == payload[: -len(b".\r\n")]


def test_dot_stuffed_lines_are_unstuffed(sink: Sink) -> None:
    payload = b"Subject: dots\r\n\r\n..leading dot\r\n...two\r\n.\r\n"
    with greet(sink.host, sink.port) as wire:
        send_data(wire, payload)
    assert _stored_raw(sink) == b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n"


def test_empty_message_is_stored(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, b".\r\n")
    assert reply.code == statuscodes.OK
    [message] = sink.wait_for()
    assert message.size == 0 and message.subject == ""


def test_disconnect_mid_data_stores_nothing_and_records_disconnect(sink: Sink) -> None:
    wire = greet(sink.host, sink.port)
    assert wire.cmd("MAIL FROM:<s@example.com>").code == statuscodes.OK
    assert wire.cmd("RCPT TO:<r@example.com>").code == statuscodes.OK
    assert wire.cmd("DATA").code == statuscodes.START_INPUT
    wire.send(b"Subject: cut\r\n\r\nhalf a mess")
    wire.sock.shutdown(socket.SHUT_RDWR)
    wire.close()
    record = ended_session(sink)
    assert record.end_reason == "disconnect"
    assert record.message_ids == []
    assert sink.messages() == []


@pytest.mark.parametrize(
    "payload",
    [
        b"Subject: nul\x00byte\r\n\r\nbody\x00\r\n",
        b"Subject: \xff\xfe invalid utf-8\r\nFrom: \xc3(\r\n\r\n\xff\r\n",
        b"Subject: =?utf-8?q?broken=ZZ?= =?nope?x?y?=\r\nTo: =?x?\r\n\r\nx\r\n",
        b"Content-Type: multipart/mixed; boundary=none\r\n\r\n--wrong\r\nno end\r\n",
        b"From: <<<@@@>>>\r\nTo: ,,,;;;\r\nDate: not a date\r\nMessage-ID: <\r\n\r\nx\r\n",
        b"no headers at all, just text\r\n",
        b"Subject: only a header",
    ],
)
def test_garbage_is_stored_exactly_and_the_summary_falls_back(sink: Sink, payload: bytes) -> None:
    stuffed = payload if payload.endswith(b"\r\n") else payload + b"\r\n"
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, stuffed + b".\r\n")
    assert reply.code == statuscodes.OK
    assert _stored_raw(sink) == stuffed
    [message] = sink.messages()
    assert isinstance(message.subject, str)


def test_unknown_command_gets_500_and_the_session_continues(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        reply = wire.cmd("FROBNICATE now")
        assert wire.cmd("NOOP").code == statuscodes.OK
    assert reply.code == statuscodes.SYNTAX_ERROR


def test_data_before_rcpt_gets_503(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        wire.cmd("MAIL FROM:<s@example.com>")
        reply = wire.cmd("DATA")
    assert reply.code == statuscodes.BAD_SEQUENCE


def test_server_still_serves_after_a_storm_of_bad_input(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        for junk in (b"\xff\xfe\xfd", b"MAIL", b"RCPT TO:", b"A" * 3000, b"DATA x", b""):
            assert wire.cmd(junk).code >= 500
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: fine\r\n\r\nx\r\n")
    assert sink.wait_for()[0].subject == "fine"

"""Bugs the fuzzers found, each pinned by a plain test so it stays fixed."""

from __future__ import annotations

from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessions import ended_session
from tests.wire import Wire, greet

INVALID_UTF8 = b"\xff\x80"


def test_helo_name_that_is_not_utf8_is_stored_and_the_session_ends(sink: Sink) -> None:
    with Wire(sink.host, sink.port) as wire:
        assert wire.reply().code == 220
        assert wire.cmd(b"EHLO host" + INVALID_UTF8).code == statuscodes.OK
        assert wire.cmd("QUIT").code == statuscodes.CLOSING
    session = ended_session(sink)
    assert session.helo == "host\ufffd\ufffd"
    assert session.end_reason == "quit"


def test_envelope_addresses_that_are_not_utf8_are_stored_with_replacements(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd(b"MAIL FROM:<a" + INVALID_UTF8 + b"@example.com>").code == statuscodes.OK
        assert wire.cmd(b"RCPT TO:<b" + INVALID_UTF8 + b"@example.com>").code == statuscodes.OK
        assert wire.cmd("DATA").code == statuscodes.START_INPUT
        reply = wire.cmd(b"Subject: s\r\n\r\nbody\r\n.")
    assert reply.code == statuscodes.OK
    [message] = sink.wait_for()
    assert message.mail_from == "a\ufffd\ufffd@example.com"
    assert message.rcpt_to == ["b\ufffd\ufffd@example.com"]


def test_reply_echoing_an_argument_that_is_not_utf8_is_sent_not_a_451(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        reply = wire.cmd(b"VRFY >" + INVALID_UTF8)
        after = wire.cmd("NOOP")
    assert reply.code == statuscodes.NOT_IMPLEMENTED and "\ufffd" in reply.text
    assert after.code == statuscodes.OK

"""Bugs the fuzzers found, each pinned by a plain test so it stays fixed."""

from __future__ import annotations

import pytest

from mailtrap_lite.message import read_message
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessions import ended_session
from tests.wire import Wire, greet, send_data

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


@pytest.mark.parametrize("command", [b"MAIL FROM:\x00@", b"VRFY \x00@"])
def test_address_the_email_package_cannot_parse_gets_a_refusal_not_a_451(
    sink: Sink, command: bytes
) -> None:
    with greet(sink.host, sink.port) as wire:
        reply = wire.cmd(command)
        after = wire.cmd("NOOP")
    assert reply.code in (statuscodes.BAD_ADDRESS, statuscodes.NOT_IMPLEMENTED), reply
    assert after.code == statuscodes.OK


def test_overlong_auth_answer_gets_one_500_and_the_session_stays_in_step(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("AUTH LOGIN").code == statuscodes.AUTH_CHALLENGE
        reply = wire.cmd(b"QUFB" * 20_000)
        after = wire.cmd("NOOP")
    assert (reply.code, reply.lines[0][:5]) == (statuscodes.SYNTAX_ERROR, "5.5.6")
    assert after.code == statuscodes.OK
    lines = [entry.line for entry in ended_session(sink).transcript or []]
    assert "NOOP" in lines and not any("QUFB" in line for line in lines)


def test_charset_name_with_a_nul_falls_back_to_utf8() -> None:
    raw = b'Content-Type: text/plain; charset="utf\x008"\r\n\r\nh\xc3\xa9\r\n'
    assert read_message(raw).text == "h\u00e9\r\n"


def test_encoded_word_with_a_non_ascii_charset_is_stored_not_refused(sink: Sink) -> None:
    # email.header raised CharsetError out of the summary, before the 250: a 451 refusal.
    with greet(sink.host, sink.port) as wire:
        reply = send_data(wire, b"Subject: =?\x80?B?aGk=?=\r\n\r\nbody\r\n.\r\n")
    assert reply.code == statuscodes.OK
    assert sink.wait_for()[0].subject == "=?\ufffd?B?aGk=?="

"""Every reply after EHLO carries an RFC 3463 enhanced status code (RFC 2034 §3)."""

from __future__ import annotations

import re

import pytest

from mailtrap_lite.smtp.replies import with_enhanced_code
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.wire import Reply, Wire, greet

ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")

# A conversation that provokes success, intermediate and error replies of many kinds.
SCRIPT: list[bytes] = [
    b"NOOP",
    b"HELP",
    b"VRFY someone@example.com",
    b"RCPT TO:<early@example.com>",
    b"DATA",
    b"MAIL FROM:<bad address>",
    b"MAIL FROM:<s@example.com> FOO=BAR",
    b"MAIL FROM:<s@example.com>",
    b"MAIL FROM:<again@example.com>",
    b"RCPT TO:<r@example.com>",
    b"RCPT TO:<r2@example.com> NOTIFY=NEVER",
    b"XYZZY",
    b"AUTH NOSUCH",
    b"X" * 2000,
    b"RSET",
    b"EXPN list",
    b"QUIT",
]


def _conversation(sink: Sink) -> list[tuple[bytes, Reply]]:
    with greet(sink.host, sink.port) as wire:
        return [(command, wire.cmd(command)) for command in SCRIPT]


def test_every_reply_after_ehlo_has_an_enhanced_code(sink: Sink) -> None:
    for command, reply in _conversation(sink):
        if reply.code // 100 == 3:
            continue  # RFC 3463 defines classes 2, 4 and 5 only
        for line in reply.lines:
            assert ENHANCED.match(line), f"{command[:40]!r} -> {reply.code} {line!r}"
            assert line[0] == str(reply.code)[0], f"class mismatch for {command[:40]!r}"


def test_greeting_and_ehlo_replies_carry_no_enhanced_code(sink: Sink) -> None:
    with Wire(sink.host, sink.port) as wire:
        greeting = wire.reply()
        ehlo = wire.cmd("EHLO client.test")
    assert not ENHANCED.match(greeting.lines[0])
    assert all(not ENHANCED.match(line) for line in ehlo.lines)


def test_ehlo_advertises_the_extensions_of_the_interface(sink: Sink) -> None:
    with Wire(sink.host, sink.port) as wire:
        wire.reply()
        ehlo = wire.cmd("EHLO client.test")
    keywords = {line.split()[0] for line in ehlo.lines[1:]}
    assert {"SIZE", "8BITMIME", "SMTPUTF8", "PIPELINING", "ENHANCEDSTATUSCODES", "AUTH"} <= keywords
    auth = next(line for line in ehlo.lines if line.startswith("AUTH"))
    assert {"PLAIN", "LOGIN"} <= set(auth.split()[1:])


def test_overlong_command_gets_500_and_the_session_continues(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        too_long = wire.cmd(b"NOOP " + b"x" * 5000)
        after = wire.cmd("NOOP")
    assert too_long.code == statuscodes.SYNTAX_ERROR
    assert after.code == statuscodes.OK


@pytest.mark.parametrize(
    ("reply", "command", "expected"),
    [
        ("250 OK", "MAIL", "250 2.1.0 OK"),
        ("250 OK", "RCPT", "250 2.1.5 OK"),
        ("250 OK", "NOOP", "250 2.0.0 OK"),
        ("503 Error: need RCPT command", "DATA", "503 5.5.1 Error: need RCPT command"),
        ('500 Error: "X" not recognized', "X", '500 5.5.1 Error: "X" not recognized'),
        ("530 5.7.0 Authentication required", "MAIL", "530 5.7.0 Authentication required"),
        ("354 End data with <CR><LF>.<CR><LF>", "DATA", "354 End data with <CR><LF>.<CR><LF>"),
        ("334 VXNlcm5hbWU6", "AUTH", "334 VXNlcm5hbWU6"),
        ("452 Too many", "RCPT", "452 4.3.1 Too many"),
    ],
)
def test_enhanced_code_is_chosen_by_reply_and_command(
    reply: str, command: str, expected: str
) -> None:
    assert with_enhanced_code(reply, command) == expected

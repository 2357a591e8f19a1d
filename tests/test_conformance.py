"""What real applications send although a strict server would refuse it: stored, and warned."""

from __future__ import annotations

import pytest

from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.smtp.conformance import check_message
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.wire import Wire, greet

GOOD_HEADERS = b"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n"


def _deliver(sink: Sink, payload: bytes, mail_from: str = "MAIL FROM:<s@example.com>") -> list[str]:
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd(mail_from).code == statuscodes.OK
        assert wire.cmd("RCPT TO:<r@example.com>").code == statuscodes.OK
        assert wire.cmd("DATA").code == statuscodes.START_INPUT
        wire.send(payload + b".\r\n")
        assert wire.reply().code == statuscodes.OK
    [message] = sink.wait_for()
    assert sink.store is not None
    assert sink.store.raw(message.id) == payload
    return [w.code for w in message.warnings]


def test_a_clean_message_has_no_warnings(sink: Sink) -> None:
    assert _deliver(sink, GOOD_HEADERS + b"Subject: ok\r\n\r\nfine\r\n") == []


def test_lines_over_1000_octets_are_accepted_and_warned(sink: Sink) -> None:
    payload = GOOD_HEADERS + b"\r\n" + b"x" * 5000 + b"\r\n" + b"y" * 70000 + b"\r\n"
    assert _deliver(sink, payload) == ["long-line"]
    [message] = sink.messages()
    assert "longest 70000" in message.warnings[0].message


@pytest.mark.parametrize("ending", [b"", b"bare\nLF\r\n", b"bare\rCR\r\n"],
                         ids=["crlf-only", "bare-lf", "bare-cr"])  # fmt: skip
def test_long_lines_are_counted_alike_whatever_else_ends_lines(ending: bytes) -> None:
    lines = [b"a" * 998, b"b" * 999, b"c" * 20, b"d" * 3000]
    raw = GOOD_HEADERS + b"\r\n" + b"\r\n".join(lines) + b"\r\n" + ending
    [long] = [w for w in check_message(raw, [], parse_summary(raw)) if w.code == "long-line"]
    assert long.message.startswith("2 line(s) longer than 998 octets (longest 3000)")


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"one\ntwo\r\n", "LF"), (b"one\rtwo\r\n", "CR")],
)
def test_bare_line_endings_are_warned(sink: Sink, body: bytes, kind: str) -> None:
    assert _deliver(sink, GOOD_HEADERS + b"\r\n" + body) == ["bare-line-ending"]
    assert f"bare {kind}" in sink.messages()[0].warnings[0].message


def test_eight_bit_data_without_8bitmime_is_warned(sink: Sink) -> None:
    payload = GOOD_HEADERS + b"\r\ncaf\xc3\xa9\r\n"
    assert _deliver(sink, payload) == ["8bit-without-8bitmime"]


@pytest.mark.parametrize("option", ["BODY=8BITMIME", "SMTPUTF8"])
def test_eight_bit_data_with_a_declared_body_is_not_warned(sink: Sink, option: str) -> None:
    payload = GOOD_HEADERS + b"\r\ncaf\xc3\xa9\r\n"
    assert _deliver(sink, payload, f"MAIL FROM:<s@example.com> {option}") == []


def test_missing_date_and_message_id_are_warned(sink: Sink) -> None:
    assert _deliver(sink, b"Subject: bare\r\n\r\nx\r\n") == ["missing-date", "missing-message-id"]


def test_nul_bytes_are_warned(sink: Sink) -> None:
    assert _deliver(sink, GOOD_HEADERS + b"\r\na\x00b\r\n") == ["nul-byte"]


def test_warnings_do_not_depend_on_how_the_data_was_split(sink: Sink) -> None:
    payload = GOOD_HEADERS + b"\r\n" + b"z" * 3000 + b"\r\n.\r\n"
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("MAIL FROM:<s@example.com>").code == statuscodes.OK
        assert wire.cmd("RCPT TO:<r@example.com>").code == statuscodes.OK
        assert wire.cmd("DATA").code == statuscodes.START_INPUT
        for offset in range(0, len(payload), 7):  # tiny writes, split anywhere
            wire.send(payload[offset : offset + 7])
        assert wire.reply().code == statuscodes.OK
    assert [w.code for w in sink.wait_for()[0].warnings] == ["long-line"]


def test_pipelined_commands_after_the_data_are_answered(sink: Sink) -> None:
    with Wire(sink.host, sink.port) as wire:
        wire.reply()
        wire.cmd("EHLO pipe.test")
        wire.send(b"MAIL FROM:<s@example.com>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n")
        assert [wire.reply().code for _ in range(3)] == [250, 250, 354]
        wire.send(b"Subject: p\r\n\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n")
        assert [wire.reply().code for _ in range(3)] == [250, 250, 221]
    assert sink.wait_for()[0].subject == "p"

"""Transport checks: what the SMTP session did, seen in real sessions with real clients."""

from __future__ import annotations

import smtplib

import pytest

from mailtrap_lite.testing import Sink
from tests.checkmail import check_bytes, clean_message, crlf, found
from tests.wire import greet

HEAD = (b"From: Shop <hello@shop.example.com>\r\nTo: ada@example.org\r\n"
        b"Message-ID: <1@shop.example.com>\r\n")  # fmt: skip


def _send(sink: Sink, local_hostname: str = "mail.shop.example.com", tls: bool = False,
          helo: bool = False) -> None:  # fmt: skip
    with smtplib.SMTP(sink.host, sink.port, local_hostname=local_hostname) as client:
        if tls:
            client.starttls(context=sink.client_tls_context())
        if helo:
            client.helo()
        client.sendmail("hello@shop.example.com", ["ada@example.org"], crlf(clean_message()))


def _transport(sink: Sink) -> dict[str, str]:
    [message] = sink.wait_for()
    return {c.id: c.status for c in message.checks().checks if c.category == "transport"}


def test_a_development_session_raises_no_warning(sink: Sink) -> None:
    _send(sink, local_hostname="localhost")
    assert _transport(sink) == {
        "transport.starttls": "info",
        "transport.ehlo": "info",
        "transport.8bit": "pass",
        "transport.recipients": "info",
    }


def test_starttls_offered_and_not_used_warns(make_sink) -> None:
    sink = make_sink(tls_self_signed=True)
    _send(sink)
    [message] = sink.wait_for()
    [result] = found(message.checks(), "transport.starttls")
    assert result.startswith("warn: STARTTLS offered but not used")


def test_mail_sent_over_starttls_passes(make_sink) -> None:
    sink = make_sink(tls_self_signed=True)
    _send(sink, tls=True)
    [message] = sink.wait_for()
    [result] = found(message.checks(), "transport.starttls")
    assert result.startswith("pass: Delivered over TLS — TLSv1.")


def test_without_a_certificate_starttls_is_not_offered_and_only_noted(sink: Sink) -> None:
    _send(sink)
    [message] = sink.wait_for()
    [result] = found(message.checks(), "transport.starttls")
    assert result.startswith("info: Plain SMTP; STARTTLS was not offered")
    assert "--tls-self-signed" in result


@pytest.mark.parametrize(
    ("name", "helo", "expected"),
    [
        ("mail.shop.example.com", False, "pass: EHLO mail.shop.example.com"),
        ("localhost", False, "info: EHLO localhost"),
        ("[127.0.0.1]", False, "info: EHLO [127.0.0.1] — An address literal"),
        ("mail.shop.example.com", True, "info: HELO mail.shop.example.com"),
    ],
)
def test_ehlo_names_the_client_by_its_domain(sink: Sink, name: str, helo: bool,
                                              expected: str) -> None:  # fmt: skip
    _send(sink, local_hostname=name, helo=helo)
    [message] = sink.wait_for()
    [result] = found(message.checks(), "transport.ehlo")
    assert result.startswith(expected)


@pytest.mark.parametrize(
    ("options", "headers", "expected"),
    [
        ("", b"Subject: caf\xc3\xa9\r\n", "warn: 8-bit data not announced"),
        (" BODY=8BITMIME", b"Subject: plain\r\n", "pass: 8-bit data announced"),
        (" BODY=8BITMIME", b"Subject: caf\xc3\xa9\r\n", "warn: 8-bit data not announced"),
        (" SMTPUTF8", b"Subject: caf\xc3\xa9\r\n", "pass: 8-bit data announced"),
    ],
)
def test_eight_bit_data_must_be_announced(sink: Sink, options: str, headers: bytes,
                                          expected: str) -> None:  # fmt: skip
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd(f"MAIL FROM:<hello@shop.example.com>{options}").code == 250
        assert wire.cmd("RCPT TO:<ada@example.org>").code == 250
        assert wire.cmd("DATA").code == 354
        wire.send(HEAD + headers + b"\r\nle caf\xc3\xa9 est pr\xc3\xaat\r\n.\r\n")
        assert wire.reply().code == 250
    [message] = sink.wait_for()
    [result] = found(message.checks(), "transport.8bit")
    assert result.startswith(expected)
    announced = "8bit-without-8bitmime" not in [w.code for w in message.warnings]
    assert announced == (" BODY=8BITMIME" in options or " SMTPUTF8" in options)


def test_recipients_and_messages_of_the_session_are_counted(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        for _ in range(2):
            client.sendmail("hello@shop.example.com", ["a@example.org", "b@example.org"],
                            crlf(clean_message()))  # fmt: skip
    second = sink.wait_for(count=2)[1]
    [result] = found(second.checks(), "transport.recipients")
    assert result == (
        "info: 2 recipients — 2 envelope recipient(s) for this message; its"
        " session addressed 2 distinct recipient(s) and delivered 2 message(s)."
    )


def test_a_file_has_no_session_to_check() -> None:
    [result] = found(check_bytes(crlf(clean_message())), "transport.session")
    assert result == "info: No SMTP session to check — The message was read from a file."

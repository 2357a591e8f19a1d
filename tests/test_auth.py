"""AUTH modes: any credentials by default, configured ones only, and AUTH required."""

from __future__ import annotations

import smtplib
from collections.abc import Callable

import pytest

from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessions import ended_session
from tests.wire import greet

MakeSink = Callable[..., Sink]


def test_any_credentials_are_accepted_and_the_user_names_the_inbox(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.login("team-a", "whatever")
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: a\r\n\r\nx\r\n")
    [stored] = sink.wait_for()
    assert stored.inbox == "team-a"


def test_without_auth_mail_goes_to_the_default_inbox(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: a\r\n\r\nx\r\n")
    [stored] = sink.wait_for()
    assert stored.inbox == "default"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_configured_credentials_are_accepted(make_sink: MakeSink, mechanism: str) -> None:
    sink = make_sink(credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        client.user, client.password = "app", "right"
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
    assert code == statuscodes.AUTH_OK


@pytest.mark.parametrize(("user", "password"), [("app", "wrong"), ("other", "right")])
def test_wrong_credentials_get_535(make_sink: MakeSink, user: str, password: str) -> None:
    sink = make_sink(credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.login(user, password)
    assert caught.value.smtp_code == statuscodes.AUTH_INVALID
    assert caught.value.smtp_error.startswith(b"5.7.8")


def test_failed_auth_session_is_recorded_without_a_message(make_sink: MakeSink) -> None:
    sink = make_sink(credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("app", "wrong")
    record = ended_session(sink)
    assert record.transcript is not None
    assert any(e.line.startswith("535 5.7.8") for e in record.transcript)
    assert record.auth_user is None


def test_require_auth_rejects_mail_before_auth(make_sink: MakeSink) -> None:
    sink = make_sink(require_auth=True)
    with greet(sink.host, sink.port) as wire:
        reply = wire.cmd("MAIL FROM:<s@example.com>")
    assert reply.code == statuscodes.AUTH_REQUIRED
    assert reply.lines[0].startswith("5.7.0")


def test_require_auth_accepts_mail_after_auth(make_sink: MakeSink) -> None:
    sink = make_sink(require_auth=True, credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.login("app", "right")
        client.sendmail("s@example.com", ["r@example.com"], b"Subject: ok\r\n\r\nx\r\n")
    [stored] = sink.wait_for()
    assert stored.inbox == "app"

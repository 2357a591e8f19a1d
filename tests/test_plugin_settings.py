"""Sinks with other settings: the smtp_sink marker and smtp_sink_factory."""

from __future__ import annotations

import smtplib

import pytest

from mailtrap_lite.pytest_plugin import SinkFactory
from mailtrap_lite.testing import Sink
from mailtrap_lite.testing.view import SinkView
from tests.statuscodes import AUTH_REQUIRED, EXCEEDED_STORAGE

MESSAGE = b"Subject: hi\r\n\r\nbody\r\n"


@pytest.mark.smtp_sink(require_auth=True, credentials={"app": "secret"})
def test_marker_gives_the_test_a_sink_that_requires_auth(smtp_sink: SinkView) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("app@example.com", ["u@example.com"], MESSAGE)
        assert refused.value.smtp_code == AUTH_REQUIRED
        client.login("app", "secret")
        client.sendmail("app@example.com", ["u@example.com"], MESSAGE)
    assert smtp_sink.wait_for().session.auth_user == "app"


@pytest.mark.smtp_sink(max_message_size=100)
def test_marker_sink_is_not_the_shared_one(smtp_sink: SinkView, smtp_sink_server: Sink) -> None:
    assert smtp_sink.port != smtp_sink_server.port


def test_factory_sink_refuses_a_message_over_its_size_limit(
    smtp_sink_factory: SinkFactory,
) -> None:
    small: SinkView = smtp_sink_factory(max_message_size=100)
    with smtplib.SMTP(small.host, small.port) as client:
        with pytest.raises(smtplib.SMTPException) as refused:
            client.sendmail("app@example.com", ["u@example.com"], MESSAGE + b"x" * 200)
    assert getattr(refused.value, "smtp_code", None) == EXCEEDED_STORAGE
    small.assert_not_sent()


def test_factory_sink_and_the_shared_sink_keep_their_mail_apart(
    smtp_sink: SinkView, smtp_sink_factory: SinkFactory
) -> None:
    other: SinkView = smtp_sink_factory()
    with smtplib.SMTP(other.host, other.port) as client:
        client.sendmail("app@example.com", ["u@example.com"], MESSAGE)
    assert other.wait_for().subject == "hi"
    assert smtp_sink.messages == []


def test_factory_rejects_an_unknown_setting(smtp_sink_factory: SinkFactory) -> None:
    with pytest.raises(TypeError, match=r"unknown sink settings \['tls_wrong'\]; known: "):
        smtp_sink_factory(tls_wrong=True)


def test_smtp_sink_server_is_started_once_per_worker(
    smtp_sink_server: Sink, smtp_sink: SinkView
) -> None:
    assert smtp_sink.sink is smtp_sink_server
    assert (smtp_sink.host, smtp_sink.port) == ("127.0.0.1", smtp_sink_server.port)

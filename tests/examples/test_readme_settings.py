"""README: a sink with other settings, for one test (marker) or several (factory)."""

import smtplib

import pytest


@pytest.mark.smtp_sink(require_auth=True, credentials={"app": "s3cret"})
def test_app_logs_in_before_sending(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.login("app", "s3cret")
        client.sendmail("app@example.com", ["ada@example.com"], b"Subject: hi\r\n\r\nhi\r\n")

    assert smtp_sink.wait_for().session.auth_user == "app"


def test_oversized_mail_is_refused(smtp_sink_factory):
    small = smtp_sink_factory(max_message_size=1000)
    with smtplib.SMTP(small.host, small.port) as client:
        with pytest.raises(smtplib.SMTPException):
            client.sendmail("app@example.com", ["ada@example.com"], b"x" * 5000)
    small.assert_not_sent()

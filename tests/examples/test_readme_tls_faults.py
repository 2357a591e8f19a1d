"""README: TLS with verification on, and a failure injected into the sending code's session."""

import smtplib

import pytest


def test_mail_goes_out_over_verified_starttls(smtp_sink_tls):
    with smtplib.SMTP("localhost", smtp_sink_tls.sink.port) as client:
        client.starttls(context=smtp_sink_tls.context)  # trusts smtp_sink_tls.ca_path
        client.sendmail("app@example.com", ["ada@example.com"], b"Subject: hi\r\n\r\nhi\r\n")

    assert smtp_sink_tls.sink.wait_for().session.tls_version.startswith("TLS")


def test_bounced_recipient_is_reported(smtp_sink):
    smtp_sink.fault("rcpt", 550, "No such user", to="*@bounce.test")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("app@example.com", ["gone@bounce.test"], b"Subject: x\r\n\r\nx\r\n")
    smtp_sink.assert_not_sent()

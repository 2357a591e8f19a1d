"""README: one-time codes, exact counts and mail that must not be sent."""

import smtplib


def send(smtp_sink, to, subject, body):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("auth@app.example", [to],
                        f"Subject: {subject}\r\n\r\n{body}\r\n".encode())


def test_login_code(smtp_sink):
    send(smtp_sink, "ada@example.com", "Your login code",
         "Use 482913 to sign in. It expires at 10:45 on 2026-11-26.")

    message = smtp_sink.assert_sent(subject="Your login code")
    assert message.code() == "482913"  # dates and times are not codes
    smtp_sink.assert_not_sent(to="grace@example.com")

"""README: the deliverability report of a captured message, asserted in a test."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def send_welcome(smtp_host: str, smtp_port: int, to: str, first_name: str) -> None:
    """The code under test: a welcome mail rendered from a template."""
    message = EmailMessage()
    message["From"] = "Shop <hello@shop.example.com>"
    message["To"] = to
    message["Subject"] = f"Welcome, {first_name}!"
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="shop.example.com")
    message.set_content(f"Hello {first_name}, see your account: https://shop.example.com/me")
    message.add_alternative(
        f'<p>Hello {first_name}, see <a href="https://shop.example.com/me">your account</a>.</p>',
        subtype="html",
    )
    with smtplib.SMTP(smtp_host, smtp_port) as client:
        client.send_message(message)


def test_welcome_mail_would_be_delivered(smtp_sink):
    send_welcome(smtp_sink.host, smtp_sink.port, "ada@example.com", first_name="Ada")

    message = smtp_sink.wait_for(to="ada@example.com")
    smtp_sink.assert_deliverable(message)  # fails listing each failing check and its rule
    warned = [c.id for c in message.checks().checks if c.status == "warn"]
    assert warned == ["authentication.dkim"]  # not signed in tests

"""README: the first example, a sign-up that mails a confirmation link."""

import smtplib
from email.message import EmailMessage


def send_welcome(smtp_host: str, smtp_port: int, to: str, token: str) -> None:
    """The code under test: it only knows an SMTP host and port."""
    message = EmailMessage()
    message["From"] = "Shop <no-reply@shop.example>"
    message["To"] = to
    message["Subject"] = "Welcome to the shop"
    message.set_content(f"Confirm your address: https://shop.example/confirm?token={token}&x=1")
    message.add_alternative(
        f'<a href="https://shop.example/confirm?token={token}&amp;x=1">Confirm</a>',
        subtype="html",
    )
    with smtplib.SMTP(smtp_host, smtp_port) as client:
        client.send_message(message)


def test_sign_up_sends_a_confirmation_link(smtp_sink):
    send_welcome(smtp_sink.host, smtp_sink.port, "ada@example.com", token="t0k3n")

    message = smtp_sink.wait_for(to="ada@example.com")
    assert message.subject == "Welcome to the shop"
    assert message.link(contains="/confirm") == "https://shop.example/confirm?token=t0k3n&x=1"

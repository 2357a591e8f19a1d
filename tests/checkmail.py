"""Mail for the deliverability checks: a well-made message, DKIM keys made here, signing.

Keys are generated in the test (cryptography) and messages signed with dkimpy, as a real
sender would sign them; the sink verifies with the public half given as a key record.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailtrap_lite.checks import Checker, KeyRing, Report
from mailtrap_lite.checks.dkimkeys import key_record

SELECTOR = "s1"
DOMAIN = "shop.example.com"
KEY_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
SIGNED = ("from", "to", "subject", "date", "message-id")
UNSUBSCRIBE = ("list-unsubscribe", "list-unsubscribe-post")


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair: the private PEM to sign with, the TXT record that verifies."""

    private_pem: bytes
    record: str


@cache
def signing_key(bits: int = 2048) -> SigningKey:
    """Return an RSA key made here (one per size for the test run: making one takes time)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())  # fmt: skip
    return SigningKey(pem, key_record(pem.decode("ascii"), "test key"))


def sign(raw: bytes, domain: str = DOMAIN, selector: str = SELECTOR,
         headers: tuple[str, ...] = SIGNED, key: SigningKey | None = None,
         **options: object) -> bytes:  # fmt: skip
    """Return the message with a DKIM-Signature header on top (dkimpy, relaxed/simple)."""
    signing = key or signing_key()
    signature = dkim.sign(raw, selector.encode(), domain.encode(), signing.private_pem,
                          include_headers=[h.encode() for h in headers], **options)  # fmt: skip
    return bytes(signature) + raw


def keys_for(domain: str = DOMAIN, selector: str = SELECTOR,
             key: SigningKey | None = None) -> tuple[tuple[str, str], ...]:  # fmt: skip
    """Return the Config.dkim_keys that verify signatures made with `sign`."""
    return ((f"{selector}._domainkey.{domain}", (key or signing_key()).record),)


def clean_message(**headers: str) -> EmailMessage:
    """Build a transactional message that meets every rule: the checks find nothing wrong."""
    message = EmailMessage()
    message["From"] = headers.pop("From", f"Shop <hello@{DOMAIN}>")
    message["To"] = headers.pop("To", "Ada <ada@example.org>")
    message["Subject"] = headers.pop("Subject", "Your order has shipped")
    message["Date"] = headers.pop("Date", email.utils.format_datetime(dt.datetime.now(dt.UTC)))
    message["Message-ID"] = headers.pop("Message_ID", email.utils.make_msgid(domain=DOMAIN))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    text = ("Hello Ada,\n\nyour order 1042 has shipped. Track it here:\n"
            f"https://{DOMAIN}/orders/1042\n\nThank you for shopping with us.\n")  # fmt: skip
    message.set_content(text)
    message.add_alternative(
        "<html><body><p>Hello Ada,</p><p>your order 1042 has shipped."
        f' <a href="https://{DOMAIN}/orders/1042">Track your order</a>.</p>'
        "<p>Thank you for shopping with us.</p></body></html>",
        subtype="html",
    )
    return message


def crlf(message: EmailMessage | bytes) -> bytes:
    """Return the message bytes with CRLF line ends, as SMTP carries them."""
    raw = message.as_bytes() if isinstance(message, EmailMessage) else message
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def check_bytes(raw: bytes, keys: tuple[tuple[str, str], ...] = ()) -> Report:
    """Return the report of message bytes as `mailtrap-lite check` makes it."""
    return Checker(KeyRing(keys)).check_file(raw)


def status(report: Report, check_id: str) -> str:
    """Return the status of the one check with this id."""
    [found] = [c for c in report.checks if c.id == check_id]
    return found.status


def found(report: Report, check_id: str) -> list[str]:
    """Return "status: title — detail" of every check with this id (for assertions)."""
    return [f"{c.status}: {c.title} — {c.detail}" for c in report.checks if c.id == check_id]

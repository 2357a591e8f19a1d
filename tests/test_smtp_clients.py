"""Real SMTP clients (smtplib, aiosmtplib, swaks) deliver into the store with the envelope."""

from __future__ import annotations

import asyncio
import smtplib
import subprocess
from email.message import EmailMessage

import aiosmtplib

from mailtrap_lite.testing import Sink
from tests import statuscodes


def _message(subject: str = "Hello", to: str = "to@example.com", cc: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sender Name <sender@example.com>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg.set_content("Plain body\n")
    return msg


def test_smtplib_message_keeps_envelope_and_headers(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.send_message(_message(), "bounce@example.com", ["to@example.com"])
    [stored] = sink.wait_for()
    assert stored.mail_from == "bounce@example.com"
    assert stored.rcpt_to == ["to@example.com"]
    assert stored.record.from_ is not None and stored.record.from_.name == "Sender Name"
    assert stored.from_ == "sender@example.com"
    assert stored.to == ["to@example.com"]
    assert stored.subject == "Hello"


def test_bcc_recipient_is_recovered_from_the_envelope(sink: Sink) -> None:
    rcpts = ["to@example.com", "cc@example.com", "hidden@example.com"]
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.send_message(_message(cc="cc@example.com"), "s@example.com", rcpts)
    [stored] = sink.wait_for()
    assert stored.rcpt_to == rcpts
    assert stored.bcc == ["hidden@example.com"]


def test_reply_to_data_is_queued_with_the_message_id(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        client.mail("s@example.com")
        client.rcpt("r@example.com")
        code, text = client.data(b"Subject: x\r\n\r\nbody\r\n")
    [stored] = sink.wait_for()
    assert code == statuscodes.OK
    assert text.decode() == f"{statuscodes.QUEUED_ENHANCED} Ok: queued as {stored.id}"


def test_aiosmtplib_message_is_stored(sink: Sink) -> None:
    async def send() -> None:
        await aiosmtplib.send(_message("From asyncio"), hostname=sink.host, port=sink.port)

    asyncio.run(send())
    [stored] = sink.wait_for()
    assert stored.subject == "From asyncio"


def test_swaks_message_is_stored(sink: Sink) -> None:
    result = subprocess.run(
        ["swaks", "--server", f"{sink.host}:{sink.port}", "--to", "swaks@example.com",
         "--from", "me@example.com", "--header", "Subject: via swaks"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [stored] = sink.wait_for()
    assert stored.subject == "via swaks"
    assert stored.rcpt_to == ["swaks@example.com"]


def test_smtputf8_address_and_subject_are_stored(sink: Sink) -> None:
    msg = EmailMessage()
    msg["From"] = "Jörg <jörg@bücher.example>"
    msg["To"] = "zoë@例え.jp"
    msg["Subject"] = "Grüße 👋"
    msg.set_content("Hallo\n")
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.send_message(msg, "jörg@bücher.example", ["zoë@例え.jp"], mail_options=["SMTPUTF8"])
    [stored] = sink.wait_for()
    assert stored.mail_from == "jörg@bücher.example"
    assert stored.rcpt_to == ["zoë@例え.jp"]
    assert stored.subject == "Grüße 👋"
    assert stored.record.from_ is not None and stored.record.from_.name == "Jörg"


def test_rfc2047_subject_is_decoded(sink: Sink) -> None:
    payload = b"Subject: =?utf-8?q?Caf=C3=A9_au_lait?=\r\nTo: a@example.com\r\n\r\nx\r\n"
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("s@example.com", ["a@example.com"], payload)
    [stored] = sink.wait_for()
    assert stored.subject == "Café au lait"


def test_several_messages_over_one_connection_get_increasing_ids(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        for n in range(5):
            client.sendmail("s@example.com", ["r@example.com"], f"Subject: {n}\r\n\r\nx\r\n")
    stored = sink.wait_for(count=5)
    assert [m.subject for m in stored] == ["0", "1", "2", "3", "4"]
    assert [m.id for m in stored] == sorted(m.id for m in stored)
    assert len({m.session_id for m in stored}) == 1

"""The smallest end-to-end check: one message through smtplib into the Store."""

import smtplib

from mailtrap_lite.testing import Sink


def test_message_sent_with_smtplib_is_stored(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: hi\r\n\r\nbody\r\n")
    [message] = sink.wait_for(count=1)
    assert message.subject == "hi"
    assert message.rcpt_to == ["b@example.com"]

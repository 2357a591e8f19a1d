"""What the message page shows beside the read model: the envelope as the client gave it."""

from __future__ import annotations

from mailtrap_lite.store.records import MessageRecord


def envelope_rows(message: MessageRecord) -> list[tuple[str, str]]:
    """Return the Envelope tab: what the SMTP client said, not what the headers claim."""
    return [
        ("MAIL FROM", message.mail_from or "<> (null reverse-path)"),
        ("MAIL parameters", " ".join(message.mail_options) or "none"),
        ("RCPT TO", ", ".join(message.rcpt_to)),
        ("Bcc (envelope only)", ", ".join(message.bcc) or "none"),
        ("Inbox", message.inbox),
        ("Size", f"{message.size:,} bytes"),
        ("Received", message.received_at),
    ]

"""What the message page shows beside the read model: the envelope as the client gave it,
and sizes in words."""

from __future__ import annotations

from mailtrap_lite.store.records import MessageRecord

UNITS = ("KiB", "MiB", "GiB", "TiB")


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


def byte_size(size: int) -> str:
    """Return a size for people: "1 byte", "157 bytes", "1.6 KiB", "2.0 MiB" (1024-based)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    power = min((size.bit_length() - 1) // 10, len(UNITS))  # 1024 ** power <= size
    return f"{size / 1024**power:,.1f} {UNITS[power - 1]}"

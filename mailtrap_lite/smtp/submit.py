"""Storing a message that did not come over SMTP (the send API) exactly as if it had.

The message gets a session of kind `api` whose transcript says how it came: the envelope
as MAIL and RCPT lines, its size, and the reply a client would have seen. It is stored
through the same `arrived_message` as SMTP mail (summary, warnings, tags), so every reader
treats both alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mailtrap_lite.config import Config
from mailtrap_lite.smtp import replies
from mailtrap_lite.smtp.handler import arrived_message
from mailtrap_lite.smtp.observer import SMTPObserver
from mailtrap_lite.smtp.transcript import now
from mailtrap_lite.store import Store
from mailtrap_lite.store.records import RawLine


class TooLarge(ValueError):
    """The message is larger than --max-message-size."""


def submit(
    store: Store,
    config: Config,
    raw: bytes,
    mail_from: str,
    rcpt_to: list[str],
    *,
    inbox: str = "default",
    tags: Sequence[str] = (),
    peer: str = "api",
    observer: SMTPObserver | None = None,
) -> int:
    """Store `raw` for these envelope recipients as an `api` session; return its id.

    Raises TooLarge past --max-message-size (the SMTP limit) and StorageError when the
    database cannot take it; the session is recorded either way. `observer` is told of the
    message once stored, as SMTP tells it of the mail it accepts.
    """
    size_limit = config.max_message_size
    session_id = store.open_session(peer, now(), kind="api")
    lines = _envelope_lines(mail_from, rcpt_to, len(raw))
    if size_limit and len(raw) > size_limit:
        lines.append(_line("server", replies.TOO_BIG))
        store.end_session(session_id, "quit", now(), lines, {"inbox": inbox})
        raise TooLarge(f"the message is {len(raw)} bytes; the limit is {size_limit}")
    new = arrived_message(raw, mail_from, rcpt_to, session_id, inbox, config, tags=tags)
    try:
        message_id = store.add_message(new, lines, {"inbox": inbox})
    except Exception:
        store.end_session(
            session_id, "disconnect", now(), [_line("server", replies.STORAGE_FAILED)]
        )
        raise
    if observer is not None:
        observer.accepted(len(raw))
    reply = replies.QUEUED.format(id=message_id)
    store.end_session(session_id, "quit", now(), [_line("server", reply)])
    return message_id


def _envelope_lines(mail_from: str, rcpt_to: list[str], size: int) -> list[RawLine]:
    lines = [_line("client", "<submitted through POST /api/v1/send>")]
    lines.append(_line("client", f"MAIL FROM:<{mail_from}>"))
    lines += [_line("client", f"RCPT TO:<{rcpt}>") for rcpt in rcpt_to]
    lines.append(_line("client", f"<message content: {size} octets>"))
    return lines


def _line(direction: str, text: str) -> RawLine:
    return (time.time(), direction, text, False)

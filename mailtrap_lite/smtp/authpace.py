"""The pace of AUTH on one connection: wrong credentials slow it down, then end it.

One connection took 16,260 guesses a second. After each wrong password (a fault rule's
refusal does not count) the connection's next command is read Config.auth_failure_delay
seconds later, twice as long each time, and the Config.max_auth_failures-th wrong password
is answered `421 4.7.0` instead of `535`, and the connection closes. RFC 4954 §4 leaves the
pace of retries to the server. The pause comes after the 535, so the transcript shows the
reply before the pause; the client may send its next guess at once, it is read later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from mailtrap_lite.config import Config
from mailtrap_lite.smtp import replies

log = logging.getLogger(__name__)


class PacedServer(Protocol):
    """What of an SMTP connection (protocol.CaptureSMTP) the pace of AUTH needs."""

    config: Config
    hostname: str
    transport: Any
    conversation: Any  # protocol.Conversation, which counts auth_failures

    def say_goodbye(self, reply: str, injected: bool = False) -> None: ...

    def pause_reading_for(self, seconds: float) -> None: ...


def close_after_too_many_failures(server: PacedServer) -> None:
    """Answer the last allowed wrong credentials with 421 and close, before the 535 goes out."""
    conversation = server.conversation
    failures: int = conversation.auth_failures
    if failures < server.config.max_auth_failures:
        return
    log.warning("%s: %d failed AUTH attempts; closing", conversation.peer, failures)
    conversation.end_reason = "limit"
    server.say_goodbye(replies.TOO_MANY_AUTH_FAILURES.format(host=server.hostname))


async def pause_after_failure(server: PacedServer, failures_before: int) -> None:
    """Read nothing more for a while if the AUTH just answered failed on its credentials."""
    conversation = server.conversation
    failures: int = conversation.auth_failures
    if failures <= failures_before or server.transport is None or server.transport.is_closing():
        return
    seconds = server.config.auth_failure_delay * 2 ** (failures - 1)
    conversation.recorder.server(
        f"<AUTH failure {failures}: next command read after {seconds * 1000:.0f} ms>"
    )
    server.pause_reading_for(seconds)
    await asyncio.sleep(seconds)
    server.pause_reading_for(0)

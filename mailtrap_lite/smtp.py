"""The SMTP protocol: aiosmtpd's `SMTP`, adjusted to record, to read long lines, to reply well.

What we change, and why, all in this class (the rest of the coupling is in transcript.py):
- `push` adds RFC 3463 enhanced codes (RFC 2034 §3) and records each reply;
- the session's reader is wrapped so that each client line is recorded;
- `smtp_DATA` reads content in large pieces (dataread.py) so that long lines are accepted;
- the idle timeout answers 421 before closing (RFC 5321 §4.5.3.2 lets a server close idle
  sessions; a reply tells the client why).
The protocol knows nothing about storage: it calls its handler (capture.py) for that.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any, cast

from aiosmtpd.smtp import MISSING, SMTP

from mailtrap_lite import replies
from mailtrap_lite.config import Config
from mailtrap_lite.dataread import read_content
from mailtrap_lite.records import replace_undecodable
from mailtrap_lite.transcript import LineTooLong, RecordingReader, TranscriptRecorder

log = logging.getLogger(__name__)

MAX_UNLIMITED = 1 << 40  # --max-message-size 0: no limit of ours

IDENT = "ESMTP mailtrap-lite (captures mail, delivers nothing)"


class Conversation:
    """What we keep about one connection; it outlives aiosmtpd's Session, which STARTTLS resets."""

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.session_id: int | None = None
        self.recorder = TranscriptRecorder()
        self.facts: dict[str, str | None] = {}
        self.inbox = "default"
        self.end_reason: str | None = None

    def learn(self, **facts: str | None) -> None:
        """Remember session facts until the next store write."""
        self.facts.update(facts)

    def take_facts(self) -> dict[str, str | None]:
        """Return the facts learnt since the last write and forget them."""
        facts, self.facts = self.facts, {}
        return facts


class CaptureSMTP(SMTP):
    """One SMTP connection that records its conversation and hands messages to its handler."""

    def __init__(self, handler: Any, config: Config, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            # aiosmtpd warns when AUTH is required without TLS; for a development sink that
            # is a deliberate, documented choice (INTERFACE.md), not a mistake.
            warnings.simplefilter("ignore")
            super().__init__(
                handler,
                data_size_limit=config.max_message_size,
                enable_SMTPUTF8=True,
                hostname=config.hostname,  # never getfqdn(): it can stall for seconds
                ident=IDENT,
                timeout=config.idle_timeout,
                auth_required=config.require_auth,
                auth_require_tls=False,
                authenticator=handler.authenticate,
                **kwargs,
            )
        self.config = config
        self.conversation: Conversation | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start a conversation on the first call (STARTTLS calls this again)."""
        if self.conversation is None:
            self.conversation = Conversation(_peer(transport.get_extra_info("peername")))
            self.event_handler.conversation_started(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        """End the conversation, then let aiosmtpd clean up."""
        conversation = self.conversation
        if conversation is not None and conversation.end_reason is None:
            quit_seen = conversation.recorder.quit_received
            conversation.end_reason = "quit" if quit_seen else "disconnect"
        super().connection_lost(error)
        if conversation is not None:
            self.event_handler.conversation_ended(self)

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        assert self.conversation is not None
        recording = RecordingReader(reader, self.conversation.recorder)
        super()._cb_client_connected(recording, writer)  # type: ignore[arg-type]

    async def push(self, status: str | bytes, injected: bool = False) -> None:
        """Send one reply line with its enhanced code, recording it first."""
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        text = replace_undecodable(text)  # aiosmtpd echoes arguments (VRFY, 501s) as received
        assert self.conversation is not None
        recorder = self.conversation.recorder
        if recorder.last_command not in (None, "HELO", "EHLO"):
            text = replies.with_enhanced_code(text, recorder.last_command)
        recorder.server(text, injected)
        await super().push(text)

    def _timeout_cb(self) -> None:
        """Say why before closing an idle session (aiosmtpd just closes)."""
        if self.conversation is not None:
            self.conversation.end_reason = "timeout"
        self.say_goodbye(replies.IDLE_TIMEOUT.format(host=self.hostname))

    def say_goodbye(self, reply: str, injected: bool = False) -> None:
        """Send a final reply without waiting on the client, then close the connection."""
        if self.transport is None or self.transport.is_closing():
            return
        assert self.conversation is not None
        self.conversation.recorder.server(reply, injected)
        # uvloop's transports are not asyncio.WriteTransport subclasses, but they write.
        transport = cast(asyncio.WriteTransport, self.transport)
        transport.write(reply.encode("utf-8") + b"\r\n")
        transport.close()

    async def challenge_auth(self, *args: Any, **kwargs: Any) -> Any:
        """Ask for an AUTH response; an overlong one gets one 500 (RFC 4954 §4), not a 451."""
        try:
            return await super().challenge_auth(*args, **kwargs)
        except LineTooLong:
            await self.push(replies.AUTH_LINE_TOO_LONG)
            return MISSING

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """Parse an address argument; None (a 553 or 502) where the email package fails on it.

        Its address parser raises IndexError on some input ("MAIL FROM:\\0@"), which
        aiosmtpd does not catch: the client got 451 "error in processing".
        """
        try:
            address, rest = super()._getaddr(arg)
        except (IndexError, ValueError):
            return None, None
        return address, rest

    async def smtp_DATA(self, arg: str | None) -> None:
        """Accept message content of any line length, ending only at CRLF.CRLF."""
        if await self._data_refused(arg):
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        assert isinstance(self._reader, RecordingReader) and self.envelope is not None
        content = await read_content(self._reader.inner, self.data_size_limit or MAX_UNLIMITED)
        assert self.conversation is not None
        self.conversation.recorder.client_note(f"<message content: {content.received} octets>")
        if content.data is None:
            self.envelope = self._create_envelope()
            await self.push(replies.TOO_BIG)
            return
        self.envelope.content = self.envelope.original_content = content.data
        status = await self._call_handler_hook("DATA")
        self.envelope = self._create_envelope()
        await self.push(status)

    async def _data_refused(self, arg: str | None) -> bool:
        """Check DATA's preconditions as aiosmtpd does; True when a refusal was sent."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return True
        if self.envelope is None or not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return True
        if arg:
            await self.push("501 Syntax: DATA")
            return True
        return False


def _peer(peername: Any) -> str:
    if isinstance(peername, tuple) and len(peername) >= 2:
        host, port = peername[0], peername[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peername)

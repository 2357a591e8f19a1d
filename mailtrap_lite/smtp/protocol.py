"""The SMTP protocol: aiosmtpd's `SMTP`, adjusted to record, to read long lines, to reply well.

What we change, and why, all in this class (the rest of the coupling is in transcript.py):
- `push` adds RFC 3463 enhanced codes (RFC 2034 §3), records each line, writes a reply at once;
- the session's reader is wrapped so that each client line is recorded;
- `smtp_DATA` reads content in large pieces (dataread.py) so that long lines are accepted;
- the idle timeout answers 421 before closing (RFC 5321 §4.5.3.2 lets a server close idle
  sessions; a reply tells the client why);
- before the greeting, a connection over --max-connections gets 421 and is closed, and
  connect-stage fault rules fire; `fire()` is how every stage applies fault rules (faults.py);
- TLS facts (version, cipher) are learnt when a handshake completes, STARTTLS or implicit.
The protocol knows nothing about storage: it calls its handler (capture.py) for that.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import warnings
from typing import Any, cast

from aiosmtpd.smtp import MISSING, SMTP

from mailtrap_lite.config import Config
from mailtrap_lite.smtp import replies
from mailtrap_lite.smtp.authpace import close_after_too_many_failures, pause_after_failure
from mailtrap_lite.smtp.content import Progress, buffered, read_content
from mailtrap_lite.smtp.engine import hook_names
from mailtrap_lite.smtp.faults import FaultRule, FaultRules, MatchFacts
from mailtrap_lite.smtp.paths import parse_path
from mailtrap_lite.smtp.transcript import (
    LineTooLong,
    RecordingReader,
    TranscriptRecorder,
    replace_undecodable,
)

log = logging.getLogger(__name__)

MAX_UNLIMITED = 1 << 40  # --max-message-size 0: no limit of ours

IDENT = "ESMTP mailtrap-lite (captures mail, delivers nothing)"


class InjectedReply(str):
    """A reply chosen by a fault rule: `push` marks it injected in the transcript."""


# What a stage returns after a "drop" fault: the connection is closing, nothing is sent.
DROPPED = InjectedReply("")


class Conversation:
    """What we keep about one connection; it outlives aiosmtpd's Session, which STARTTLS resets."""

    def __init__(self, peer: str, recorder: TranscriptRecorder | None = None) -> None:
        self.peer = peer
        self.session_id: int | None = None
        self.recorder = recorder or TranscriptRecorder()
        self.facts: dict[str, str | None] = {}
        self.inbox = "default"
        self.auth_user: str | None = None
        self.admitted = False  # counted against --max-connections
        self.end_reason: str | None = None
        self.data: Progress | None = None  # while message content is being read
        self.auth_failures = 0  # AUTH attempts whose credentials were wrong

    def learn(self, **facts: str | None) -> None:
        """Remember session facts until the next store write."""
        self.facts.update(facts)

    def take_facts(self) -> dict[str, str | None]:
        """Return the facts learnt since the last write and forget them."""
        facts, self.facts = self.facts, {}
        return facts


class CaptureSMTP(SMTP):
    """One SMTP connection that records its conversation and hands messages to its handler."""

    def __init__(
        self,
        handler: Any,
        config: Config,
        *,
        faults: FaultRules | None = None,
        tls_context: Any = None,
        implicit_tls: bool = False,
        **kwargs: Any,
    ) -> None:
        # The reader's buffer must hold a whole command line (aiosmtpd reads it at __init__).
        self.line_length_limit = max(SMTP.line_length_limit, config.max_command_length + 2)
        # Over implicit TLS the connection is already secure, and STARTTLS makes no sense.
        starttls = tls_context is not None and not implicit_tls
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
                tls_context=tls_context if starttls else None,
                require_starttls=starttls and config.require_tls,
                auth_require_tls=starttls and (config.require_tls or config.auth_require_tls),
                authenticator=handler.authenticate,
                **kwargs,
            )
        self.config = config
        self.faults = faults if faults is not None else FaultRules()
        self.conversation: Conversation | None = None
        self._auth_fault: FaultRule | None = None
        # aiosmtpd keeps these limits in a dict shared by every connection; keep our own.
        self.command_size_limit = config.max_command_length
        self.command_size_limits = collections.defaultdict(lambda: self.command_size_limit)
        self._continued: list[str] = []  # lines of a multi-line reply not yet written

    def __dir__(self) -> list[str]:
        """List only the commands and AUTH mechanisms aiosmtpd looks up by name.

        aiosmtpd 1.4 calls dir() on every connection: every attribute, ~0.25 ms of a send."""
        return hook_names(type(self), ("smtp_", "auth_"))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start a conversation on the first call; learn the TLS facts after a handshake.

        STARTTLS calls this again once its handshake is done; over implicit TLS, asyncio
        calls it only after the handshake.
        """
        after_starttls = self.conversation is not None
        if self.conversation is None:
            recorder = TranscriptRecorder(
                self.config.max_transcript_lines, self.config.max_transcript_bytes
            )
            self.conversation = Conversation(_peer(transport.get_extra_info("peername")), recorder)
            self.event_handler.conversation_started(self)
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        if after_starttls and self.conversation.auth_user is not None:
            # RFC 3207 §4.2: what was learnt before TLS, AUTH included, is forgotten.
            self.conversation.auth_user, self.conversation.inbox = None, "default"
            self.conversation.learn(auth_user=None, inbox="default")
        cipher = ssl_object.cipher()
        self.conversation.learn(
            tls_version=ssl_object.version(), tls_cipher=cipher[0] if cipher else None
        )

    def connection_lost(self, error: Exception | None) -> None:
        """End the conversation, then let aiosmtpd clean up."""
        conversation = self.conversation
        if conversation is not None and conversation.end_reason is None:
            quit_seen = conversation.recorder.quit_received
            conversation.end_reason = "quit" if quit_seen else "disconnect"
        if conversation is not None and conversation.data is not None:
            self._note_cut_data(conversation, conversation.data)
        super().connection_lost(error)
        if conversation is not None:
            self.event_handler.conversation_ended(self)

    def _note_cut_data(self, conversation: Conversation, progress: Progress) -> None:
        """Record that the session ended during DATA: how much arrived; nothing is stored."""
        conversation.data = None
        arrived = progress.received
        if isinstance(self._reader, RecordingReader):
            arrived += buffered(self._reader.inner)
        conversation.recorder.client_note(
            f"<message content cut off after {arrived} octets: no end of data, nothing stored>"
        )
        conversation.recorder.problems.data_cut(arrived)

    def eof_received(self) -> bool:
        """Close the connection when the client closes its side, whatever the loop.

        aiosmtpd cancels the session's task and keeps the transport half-open (True), relying
        on that task to close it. Under uvloop the end of a connect-then-close (a TCP health
        check, `nc -z`) arrives before the task has taken its first step; a task cancelled
        then never runs, so the socket stayed in CLOSE-WAIT and its place under
        --max-connections stayed taken until the idle timeout. False makes the transport
        close itself, and connection_lost frees the place at once.
        """
        super().eof_received()
        return False

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        assert self.conversation is not None
        recording = RecordingReader(reader, self.conversation.recorder)
        super()._cb_client_connected(recording, writer)  # type: ignore[arg-type]

    async def _handle_client(self) -> None:
        """Refuse a connection over --max-connections and fire connect faults, then greet."""
        conversation = self._conversation()
        if not conversation.admitted:
            conversation.end_reason = "limit"
            self.say_goodbye(replies.TOO_MANY_CONNECTIONS.format(host=self.hostname))
            return
        reply = await self.fire("connect")
        if reply is not None:  # a reply replaces the greeting and ends the connection
            self.say_goodbye(reply, injected=True)
            return
        await super()._handle_client()

    async def push(self, status: str | bytes, injected: bool = False) -> None:
        """Send one reply line with its enhanced code, recording it first."""
        if self.transport is None or self.transport.is_closing():
            return  # closed (QUIT, a dropped connection): nothing more is sent
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        injected = injected or isinstance(status, InjectedReply)
        text = replace_undecodable(text)  # aiosmtpd echoes arguments (VRFY, 501s) as received
        assert self.conversation is not None
        recorder = self.conversation.recorder
        if recorder.last_command not in (None, "HELO", "EHLO"):
            text = replies.with_enhanced_code(text, recorder.last_command)
        recorder.server(text, injected)
        self.event_handler.observer.reply(recorder.last_command, text)
        if recorder.flush_due:
            self.event_handler.write_transcript(self)
        if text[3:4] == "-" and "\n" not in text:
            # RFC 5321 §4.2.1: "250-" lines come before the last line of the same reply;
            # one write for the whole reply (EHLO's nine lines cost nine send calls and
            # as many wake-ups of the client).
            self._continued.append(text)
            return
        if self._continued:
            text = "\r\n".join([*self._continued, text])
            self._continued.clear()
        await super().push(text)
        if injected and text.startswith("421"):
            self._hang_up()  # RFC 5321 §3.8: 421 means the server closes the channel

    async def fire(
        self, stage: str, mail_from: str | None = None, rcpt_to: tuple[str, ...] = ()
    ) -> str | None:
        """Apply the first fault rule firing at this stage; return its reply (None: go on)."""
        facts = MatchFacts(stage, mail_from, rcpt_to, self._conversation().auth_user)
        rule = self.faults.fire(facts)
        return None if rule is None else await self._perform(rule)

    async def _perform(self, rule: FaultRule) -> str | None:
        recorder = self._conversation().recorder
        if rule.action == "delay":
            recorder.server(f"<injected delay: {rule.delay_ms} ms>", injected=True)
            seconds = (rule.delay_ms or 0) / 1000
            self.pause_reading_for(seconds)
            await asyncio.sleep(seconds)
            self.pause_reading_for(0)
            return None
        if rule.action == "drop":
            recorder.server("<injected drop: connection closed without a reply>", injected=True)
            self._hang_up()
            return DROPPED
        return InjectedReply(rule.reply or "")

    def _hang_up(self) -> None:
        """Close now and stop reading, as QUIT does (pipelined commands are not served)."""
        if self._handler_coroutine is not None:
            self._handler_coroutine.cancel()
        if self.transport is not None:
            self.transport.close()

    def match_auth_fault(self, user: str) -> bool:
        """Match auth faults for this user; True when the AUTH must fail.

        The authenticator calls this and cannot wait: the reply, delay or drop happens in
        `_after_auth`, once aiosmtpd's exchange returns.
        """
        self._auth_fault = self.faults.fire(MatchFacts("auth", user=user))
        return self._auth_fault is not None and self._auth_fault.action != "delay"

    async def auth_PLAIN(self, _: Any, args: list[str]) -> Any:
        """Run aiosmtpd's PLAIN exchange, then any auth fault it matched."""
        return await self._after_auth(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> Any:
        """Run aiosmtpd's LOGIN exchange, then any auth fault it matched."""
        return await self._after_auth(await super().auth_LOGIN(_, args))

    async def _after_auth(self, result: Any) -> Any:
        rule, self._auth_fault = self._auth_fault, None
        if rule is not None:
            reply = await self._perform(rule)
            if reply is not None:
                await self.push(reply)
        close_after_too_many_failures(self)
        return result

    async def smtp_AUTH(self, arg: str) -> None:
        """Run AUTH; after wrong credentials pause before the next command (authpace.py)."""
        failures = self._conversation().auth_failures
        await super().smtp_AUTH(arg)
        await pause_after_failure(self, failures)

    def pause_reading_for(self, seconds: float) -> None:
        """Keep a pause of ours from counting as the client's idleness (0: the pause is over)."""
        if seconds:
            self._reset_timeout(self.config.idle_timeout + seconds)
        else:
            self._reset_timeout()

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
        """Parse a MAIL or RCPT address argument; (None, None) gives the client a 553."""
        address, rest = parse_path(arg)
        if address and self.local_part_limit:
            if len(address.rpartition("@")[0]) > self.local_part_limit:
                return None, None
        return address, rest

    async def smtp_DATA(self, arg: str | None) -> None:
        """Accept message content of any line length, ending only at CRLF.CRLF."""
        if await self._data_refused(arg):
            return
        if await self._data_fault():
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        assert isinstance(self._reader, RecordingReader) and self.envelope is not None
        assert self.conversation is not None
        # Cleared only once the content is read: a session that ends meanwhile says so.
        progress = self.conversation.data = Progress()
        limit = self.data_size_limit or MAX_UNLIMITED
        content = await read_content(self._reader.inner, limit, progress)
        self.conversation.data = None
        self.conversation.recorder.client_note(f"<message content: {content.received} octets>")
        if content.data is None:
            self.envelope = self._create_envelope()
            await self.push(replies.TOO_BIG)
            return
        self.envelope.content = self.envelope.original_content = content.data
        started = time.perf_counter()
        status = await self._call_handler_hook("DATA")
        if status.startswith("250"):
            self.event_handler.observer.ingested(time.perf_counter() - started)
            self.event_handler.observer.accepted(len(content.data))
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

    async def _data_fault(self) -> bool:
        """Fire data-stage faults (the DATA command); True when a reply or drop ends it."""
        assert self.envelope is not None
        envelope = self.envelope
        reply = await self.fire("data", envelope.mail_from, tuple(envelope.rcpt_tos))
        if reply is not None:
            await self.push(reply)
        return reply is not None

    def _conversation(self) -> Conversation:
        assert self.conversation is not None
        return self.conversation


def _peer(peername: Any) -> str:
    if isinstance(peername, tuple) and len(peername) >= 2:
        host, port = peername[0], peername[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peername)

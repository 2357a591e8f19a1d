"""The capture handler: the seam between SMTP and the Store.

aiosmtpd calls its `handle_*` hooks by name; this class turns what they see into Store calls.
A message is committed before its 250 reply is sent, so "250" means "stored".
Fault rules (faults.py) fire at the start of the hooks of their stage, through `server.fire`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from mailtrap_lite.config import Config
from mailtrap_lite.mime.headers import Summary, parse_summary
from mailtrap_lite.smtp import replies
from mailtrap_lite.smtp.conformance import check_message
from mailtrap_lite.smtp.engine import hook_names
from mailtrap_lite.smtp.groupcommit import GroupCommit
from mailtrap_lite.smtp.observer import SMTPObserver
from mailtrap_lite.smtp.protocol import CaptureSMTP, Conversation
from mailtrap_lite.smtp.transcript import now, replace_undecodable
from mailtrap_lite.store import Delivery, StorageError, Store, tagging
from mailtrap_lite.store.records import NewMessage

log = logging.getLogger(__name__)

# RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2920 PIPELINING, RFC 2034.
EXTENSIONS = ("PIPELINING", "ENHANCEDSTATUSCODES")


class CaptureHandler:
    """Stores every session and every message of the SMTP connections it serves."""

    def __init__(self, store: Store, config: Config, observer: SMTPObserver | None = None) -> None:
        self.store = store
        self.config = config
        self.observer = observer or SMTPObserver()
        self.commits = GroupCommit(store)
        self.live: set[CaptureSMTP] = set()
        self.admitted = 0  # live connections within --max-connections (0: no limit)

    def __dir__(self) -> list[str]:
        """List the hooks aiosmtpd looks up by name on every connection (CaptureSMTP.__dir__)."""
        return hook_names(type(self), ("handle_", "auth_"))

    # -- connection life -------------------------------------------------------------------

    def conversation_started(self, server: CaptureSMTP) -> None:
        """Record the new session (a storage failure must not stop the conversation)."""
        conversation = _conversation(server)
        self.live.add(server)
        limit = self.config.max_connections
        if not limit or self.admitted < limit:
            conversation.admitted = True
            self.admitted += 1
        try:
            conversation.session_id = self.store.open_session(conversation.peer, now())
        except StorageError as error:
            log.warning("cannot record session of %s: %s", conversation.peer, error)

    def conversation_ended(self, server: CaptureSMTP) -> None:
        """Store the end of the session and the rest of its transcript."""
        self.live.discard(server)
        conversation = _conversation(server)
        self.observer.session_ended(conversation.end_reason or "disconnect")
        if conversation.admitted:
            conversation.admitted = False
            self.admitted -= 1
        if conversation.session_id is None:
            return
        reason = conversation.end_reason or "disconnect"
        try:
            self.store.end_session(
                conversation.session_id,
                reason,
                now(),
                conversation.recorder.finish(),
                conversation.take_facts(),
                conversation.recorder.problems.problems(reason),
            )
        except StorageError as error:
            log.warning("cannot record the end of session %s: %s", conversation.session_id, error)

    def write_transcript(self, server: CaptureSMTP) -> None:
        """Write out the lines a long session has gathered, as a chunk of its transcript."""
        conversation = _conversation(server)
        if conversation.session_id is None:
            return
        recorder = conversation.recorder
        lines, facts = recorder.take(), conversation.take_facts()
        problems = recorder.problems.take_changed()
        try:
            self.store.append_transcript(conversation.session_id, lines, facts, problems)
        except StorageError as error:
            log.warning("cannot record session %s: %s", conversation.session_id, error)
            recorder.give_back(lines)  # the cap keeps what waits bounded
            conversation.learn(**facts)
            recorder.problems.changed |= problems is not None

    # -- aiosmtpd hooks --------------------------------------------------------------------

    async def handle_EHLO(
        self,
        server: CaptureSMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Advertise our extensions beside aiosmtpd's and remember the client's name."""
        reply = await server.fire("ehlo")
        if reply is not None:
            return [reply]
        session.host_name = hostname
        _conversation(server).learn(helo=replace_undecodable(hostname))
        last = responses.pop()  # "250 HELP": keep it last, the only line without a dash
        responses.extend(f"250-{name}" for name in EXTENSIONS)
        responses.append(last)
        return responses

    async def handle_HELO(
        self, server: CaptureSMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        """Remember the client's name (plain SMTP, no extensions)."""
        reply = await server.fire("ehlo")
        if reply is not None:
            return reply
        session.host_name = hostname
        _conversation(server).learn(helo=replace_undecodable(hostname))
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self,
        server: CaptureSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Accept any sender (what aiosmtpd does without this hook), unless a fault fires."""
        reply = await server.fire("mail", mail_from=address)
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: CaptureSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept any recipient up to --max-recipients (RFC 5321 §4.5.3.1.8: 452 past it)."""
        reply = await server.fire("rcpt", envelope.mail_from, (address,))
        if reply is not None:
            return reply
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: CaptureSMTP, session: Session, envelope: Envelope) -> str:
        """Commit the message, then (only then) answer 250 with its id.

        An eom fault fires first: a message refused, or dropped, by a fault is not stored.
        """
        reply = await server.fire("eom", envelope.mail_from, tuple(envelope.rcpt_tos))
        if reply is not None:
            return reply
        conversation = _conversation(server)
        new = self._new_message(conversation, envelope)
        # The transcript so far is committed with the message, so that the session of any
        # stored message shows the conversation that delivered it (tests assert on it).
        transcript = conversation.recorder.take()
        facts = conversation.take_facts()
        problems = conversation.recorder.problems.take_changed()
        try:
            message_id = await self.commits.add(Delivery(new, transcript, facts, problems))
        except StorageError as error:
            log.error("cannot store a message from %s: %s", conversation.peer, error)
            conversation.recorder.give_back(transcript)
            conversation.learn(**facts)
            conversation.recorder.problems.changed |= problems is not None
            return replies.STORAGE_FAILED
        return replies.QUEUED.format(id=message_id)

    async def handle_exception(self, error: Exception) -> str:
        """Answer a temporary failure for anything unexpected; the session goes on."""
        log.exception("unexpected error in an SMTP session", exc_info=error)
        return "451 4.3.0 Requested action aborted: error in processing"

    def authenticate(
        self, server: CaptureSMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept the configured credentials (any, when none are); the user names the inbox."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        conversation = _conversation(server)
        conversation.recorder.problems.auth_tried(user)
        if server.match_auth_fault(user):
            return AuthResult(success=False, handled=True)  # the fault's reply is sent instead
        if not self._credentials_ok(user, password):
            conversation.auth_failures += 1  # the protocol slows the reply and counts them
            return AuthResult(success=False, handled=False, message=replies.AUTH_FAILED)
        conversation.inbox = conversation.auth_user = user
        conversation.learn(auth_user=user, inbox=user)
        return AuthResult(success=True, auth_data=data)

    def _credentials_ok(self, user: str, password: str) -> bool:
        credentials = self.config.credentials
        if not credentials:
            return bool(user)
        expected = credentials.get(user)
        return expected is not None and hmac.compare_digest(expected, password)

    def _new_message(self, conversation: Conversation, envelope: Envelope) -> NewMessage:
        return arrived_message(
            envelope.original_content or b"",
            replace_undecodable(envelope.mail_from or ""),
            [replace_undecodable(rcpt) for rcpt in envelope.rcpt_tos],
            conversation.session_id,
            conversation.inbox,
            self.config,
            [replace_undecodable(option) for option in envelope.mail_options],
        )


def arrived_message(
    raw: bytes,
    mail_from: str,
    rcpt_to: list[str],
    session_id: int | None,
    inbox: str,
    config: Config,
    mail_options: list[str] | None = None,
    tags: Sequence[str] = (),
) -> NewMessage:
    """Describe a message as it arrives (over SMTP or the send API): summary, warnings, tags."""
    summary = parse_summary(raw)
    options = mail_options or []
    return NewMessage(
        raw=raw,
        mail_from=mail_from,
        rcpt_to=rcpt_to,
        session_id=session_id,
        inbox=inbox,
        received_at=now(),
        summary=summary,
        mail_options=options,
        warnings=check_message(raw, options, summary),
        tags=tagging.arrival_tags(
            tags, summary.x_tags, _addresses(rcpt_to, summary), config.plus_tags
        ),
    )


def _addresses(rcpt_to: list[str], summary: Summary) -> list[str]:
    """Return the envelope recipients and the To and Cc addresses: where plus-tags come from."""
    return [*rcpt_to, *(m.address for m in summary.to + summary.cc)]


def _conversation(server: CaptureSMTP) -> Conversation:
    assert server.conversation is not None
    return server.conversation

"""Releasing a captured message to a real SMTP server: the one way mail ever leaves.

Never a default: without `--relay-config FILE` there is no Relay and nothing is sent. A
release happens only on an explicit request (API, UI) or a configured rule
(`--relay-matching`), goes only to the server the file names, and only to recipients its
`allowed_recipients` pattern accepts and `blocked_recipients` does not. Each release is an
`outgoing` session with its transcript, and its outcome is recorded on the message.

The stored bytes are sent as they are, except what the file asks to change: From
(`override_from`, the old value kept in X-Original-From) and a fresh Message-ID unless
`preserve_message_id`. The client is aiosmtplib, run on the calling thread's own loop
(a web or background thread), never on the SMTP server's loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtrap_lite.config import ConfigError
from mailtrap_lite.mime.headers import HEADER_END, rfc3339
from mailtrap_lite.store import Store
from mailtrap_lite.store.records import RawLine, ReleaseRecord

if TYPE_CHECKING:
    import aiosmtplib

TLS_MODES = ("none", "starttls", "tls")
KEYS = frozenset({"host", "port", "tls", "username", "password", "allowed_recipients",
                  "blocked_recipients", "return_path", "override_from",
                  "preserve_message_id"})  # fmt: skip
TIMEOUT = 30.0
MAX_RECIPIENTS = 100


class RelayRefused(ValueError):
    """Recipients the relay configuration does not allow; nothing was sent."""


@dataclass(frozen=True)
class RelaySettings:
    """The --relay-config file: where released mail goes and who may receive it."""

    host: str
    port: int = 25
    tls: str = "starttls"
    username: str | None = None
    password: str | None = None
    allowed_recipients: re.Pattern[str] | None = None
    blocked_recipients: re.Pattern[str] | None = None
    return_path: str | None = None
    override_from: str | None = None
    preserve_message_id: bool = False

    @property
    def address(self) -> str:
        """Return HOST:PORT."""
        return f"{self.host}:{self.port}"


def read_relay_config(path: Path) -> RelaySettings:
    """Read a --relay-config TOML file; ConfigError names the bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read --relay-config {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"--relay-config {path}: not TOML: {error}") from None
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ConfigError(f"--relay-config {path}: unknown keys {unknown}; known: {sorted(KEYS)}")
    return _settings(data, f"--relay-config {path}")


def _settings(data: dict[str, Any], where: str) -> RelaySettings:
    host = data.get("host")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: host is required (the server to release mail to)")
    port = data.get("port", 25)
    tls = data.get("tls", "starttls")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where}: port must be a number from 1 to 65535")
    if tls not in TLS_MODES:
        raise ConfigError(f"{where}: tls must be one of {', '.join(TLS_MODES)}")
    strings = {k: data.get(k) for k in ("username", "password", "return_path", "override_from")}
    for key, value in strings.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
    return RelaySettings(
        host, port, tls, strings["username"], strings["password"],
        _pattern(data, "allowed_recipients", where), _pattern(data, "blocked_recipients", where),
        strings["return_path"], strings["override_from"],
        bool(data.get("preserve_message_id", False)),
    )  # fmt: skip


def _pattern(data: dict[str, Any], key: str, where: str) -> re.Pattern[str] | None:
    text = data.get(key)
    if text is None:
        return None
    try:
        return re.compile(str(text), re.IGNORECASE)
    except re.error as error:
        raise ConfigError(f"{where}: {key} is not a regular expression: {error}") from None


class Relay:
    """Sends stored messages to the configured server and records every attempt."""

    def __init__(self, settings: RelaySettings, store: Store, hostname: str) -> None:
        self.settings = settings
        self.store = store
        self.hostname = hostname
        self.listeners: list[Callable[[bool], None]] = []  # told each release's outcome

    def refused(self, recipients: list[str]) -> list[str]:
        """Return the recipients this configuration does not allow."""
        allowed, blocked = self.settings.allowed_recipients, self.settings.blocked_recipients
        return [
            r for r in recipients
            if (allowed is not None and not allowed.search(r))
            or (blocked is not None and blocked.search(r))
        ]  # fmt: skip

    def release(self, message_id: int, recipients: list[str]) -> ReleaseRecord:
        """Send a stored message to these recipients; return the recorded outcome.

        Raises RelayRefused (nothing sent) for recipients outside the allow-list, and
        LookupError for an unknown message.
        """
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise RelayRefused(f"give from 1 to {MAX_RECIPIENTS} recipients")
        refused = self.refused(recipients)
        if refused:
            raise RelayRefused(f"the relay configuration does not allow {', '.join(refused)}")
        record, raw = self.store.get_message(message_id), self.store.raw(message_id)
        if record is None or raw is None:
            raise LookupError(f"no message with id {message_id}")
        sender = self.settings.return_path or record.mail_from
        session_id = self.store.open_session(self.settings.address, _now(), kind="outgoing")
        conversation = Conversation(self.settings, self.hostname)
        ok, reply = asyncio.run(conversation.send(self._outgoing(raw), sender, recipients))
        self.store.end_session(session_id, "quit", _now(), conversation.lines,
                               {"helo": self.hostname, "inbox": record.inbox})  # fmt: skip
        outcome = ReleaseRecord(message_id, session_id, _now(), recipients, ok, reply)
        self.store.add_release(outcome)
        for listener in self.listeners:
            listener(ok)
        return outcome

    def _outgoing(self, raw: bytes) -> bytes:
        """Return the bytes to send: the stored ones, with From and Message-ID as configured."""
        changes: dict[str, str] = {}
        extra: list[tuple[str, str]] = []
        if self.settings.override_from:
            changes["from"] = self.settings.override_from
            old_from = _header_value(raw, "from")
            if old_from is not None:
                extra.append(("X-Original-From", old_from))
        if not self.settings.preserve_message_id:
            changes["message-id"] = email.utils.make_msgid(domain=self.hostname)
        return rewrite_headers(raw, changes, extra) if changes else raw


def _header_value(raw: bytes, name: str) -> str | None:
    block = raw[: m.start()] if (m := HEADER_END.search(raw)) else raw
    found = re.search(rb"(?im)^" + name.encode() + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", block)
    return found.group(1).decode("utf-8", "replace").strip() if found else None


def rewrite_headers(raw: bytes, changes: dict[str, str], extra: list[tuple[str, str]]) -> bytes:
    """Replace (or add) the headers in `changes` and add `extra`, at the top; body untouched."""
    end = HEADER_END.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"\r\n\r\n")
    kept: list[bytes] = []
    skipping = False
    for line in re.split(rb"(?<=\n)", head):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        skipping = name in changes
        if not skipping:
            kept.append(line)
    added = [f"{_title(n)}: {v}\r\n".encode() for n, v in changes.items()]
    added += [f"{n}: {v}\r\n".encode() for n, v in extra]
    body = b"".join(kept)
    if body and not body.endswith(b"\n"):
        body += b"\r\n"
    return (b"".join(added) + body).rstrip(b"\r\n") + rest


def _title(name: str) -> str:
    return "Message-ID" if name == "message-id" else name.title()


def _now() -> str:
    return rfc3339(dt.datetime.now(dt.UTC))


class Conversation:
    """One outgoing SMTP conversation, recorded line by line as the client saw it."""

    def __init__(self, settings: RelaySettings, hostname: str) -> None:
        self.settings = settings
        self.hostname = hostname
        self.lines: list[RawLine] = []

    def _client(self, text: str) -> None:
        self.lines.append((time.time(), "client", text, False))

    def _server(self, response: Any) -> str:
        code, text = int(response.code), str(response.message)
        rows = text.split("\n") if text else [""]
        for i, row in enumerate(rows):
            sep = "-" if i < len(rows) - 1 else " "
            self.lines.append((time.time(), "server", f"{code}{sep}{row}".rstrip(), False))
        return f"{code} {rows[-1]}".rstrip()

    async def send(self, raw: bytes, sender: str, recipients: list[str]) -> tuple[bool, str]:
        """Deliver; return (accepted, the server's last reply or what went wrong)."""
        import aiosmtplib  # on first release: the client costs ~0.2 s to import

        s = self.settings
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.tls == "tls",
                                 start_tls=False, timeout=TIMEOUT,
                                 local_hostname=self.hostname)  # fmt: skip
        try:
            return await self._converse(client, raw, sender, recipients)
        except aiosmtplib.SMTPResponseException as error:
            return False, self._server(error)
        except (aiosmtplib.SMTPException, OSError) as error:
            note = f"<connection failed: {error}>"
            self.lines.append((time.time(), "server", note, False))
            return False, note
        finally:
            if client.is_connected:
                client.close()

    async def _converse(
        self, client: aiosmtplib.SMTP, raw: bytes, sender: str, recipients: list[str]
    ) -> tuple[bool, str]:
        self._client(f"<connect to {self.settings.address} ({self.settings.tls})>")
        self._server(await client.connect())
        self._client(f"EHLO {self.hostname}")
        self._server(await client.ehlo())
        if self.settings.tls == "starttls":
            self._client("STARTTLS")
            self._server(await client.starttls())
            self._client(f"EHLO {self.hostname}")
            self._server(await client.ehlo())
        if self.settings.username is not None:
            self._client("AUTH ****")  # credentials never reach a transcript
            self._server(await client.login(self.settings.username, self.settings.password or ""))
        self._client(f"MAIL FROM:<{sender}>")
        self._server(await client.mail(sender))
        for rcpt in recipients:
            self._client(f"RCPT TO:<{rcpt}>")
            self._server(await client.rcpt(rcpt))
        self._client("DATA")
        self._client(f"<message content: {len(raw)} octets>")
        reply = self._server(await client.data(raw))
        self._client("QUIT")
        self._server(await client.quit())
        return reply.startswith("250"), reply

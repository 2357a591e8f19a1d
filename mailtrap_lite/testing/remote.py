"""A running mailtrap-lite read through its JSON API, as a test view's backend.

Used by the plugin's external mode (--smtp-sink-url). Each client owns one inbox: the code
under test logs in over SMTP as that inbox's user, so parallel workers never see each other's
mail. Waiting happens on the server (/api/v1/wait with after=ID); nothing polls.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from mailtrap_lite.checks import Check, Report
from mailtrap_lite.config import ConfigError, parse_address
from mailtrap_lite.message import Message, read_message
from mailtrap_lite.mime.headers import Mailbox
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store.records import (
    MessageRecord,
    Problem,
    SessionRecord,
    TranscriptEntry,
    Warning_,
)
from mailtrap_lite.testing.backends import Cursor
from mailtrap_lite.testing.captured import MessageSource

API = "/api/v1"
PAGE = 200
REQUEST_TIMEOUT = 30.0
MAX_WAIT = 300.0  # the API's ceiling for /wait
WILDCARDS = {"0.0.0.0", "::", ""}


class RemoteError(RuntimeError):
    """The server could not be reached, or answered with an error."""


class RemoteInbox:
    """One inbox of a running mailtrap-lite; the code under test logs in as `user`."""

    def __init__(self, url: str, inbox: str, password: str = "pytest") -> None:
        parts = urllib.parse.urlsplit(url)
        path = parts.path.rstrip("/")
        self.url = urllib.parse.urlunsplit((parts.scheme, _netloc(parts), path, "", ""))
        self._auth = _basic_auth(parts)
        self.inbox = inbox
        self.password = password
        self._versions = itertools.count()
        self._records: dict[int, MessageRecord] = {}
        self._host, self._port = self._smtp_address(parts.hostname or "127.0.0.1")

    def __repr__(self) -> str:
        return f"<RemoteInbox {self.url} inbox {self.inbox!r}>"

    # -- HTTP ------------------------------------------------------------------------------

    def _request(self, path: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + API + path, headers=self._auth)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return int(reply.status), bytes(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (OSError, urllib.error.URLError) as error:
            raise RemoteError(f"cannot reach mailtrap-lite at {self.url}: {error}") from None

    def _json(
        self, path: str, ok: tuple[int, ...] = (200,), timeout: float = REQUEST_TIMEOUT
    ) -> Any:
        status, body = self._request(path, timeout)
        if status not in ok:
            raise RemoteError(f"GET {API}{path} answered {status}: {body[:300]!r}")
        return json.loads(body) if status == 200 else None

    def _smtp_address(self, url_host: str) -> tuple[str, int]:
        health = self._json("/health")
        try:
            address = parse_address(str(health.get("smtp") or ""))
        except ConfigError as error:
            raise RemoteError(f"{self.url} reports no usable SMTP address: {error}") from None
        host = url_host if address.host in WILDCARDS else address.hosts()[0]
        return host, address.port

    # -- Backend ---------------------------------------------------------------------------

    @property
    def backend(self) -> RemoteInbox:
        """Return self: a remote inbox is its own backend."""
        return self

    def fault_rules(self) -> FaultRules:
        """Refuse: fault rules are set on the server itself (PUT /api/v1/faults)."""
        raise NotImplementedError("fault() needs an in-process sink (not --smtp-sink-url)")

    @property
    def host(self) -> str:
        """Return the SMTP host of the server."""
        return self._host

    @property
    def port(self) -> int:
        """Return the SMTP port of the server."""
        return self._port

    @property
    def credentials(self) -> tuple[str, str] | None:
        """Return the SMTP AUTH user and password that deliver into this inbox."""
        return self.inbox, self.password

    def cursor(self) -> Cursor:
        """Return the server's newest message and session ids."""
        messages = self._json("/messages?limit=1")["messages"]
        sessions = self._json("/sessions?limit=1")["sessions"]
        return Cursor(
            int(messages[0]["id"]) if messages else 0, int(sessions[0]["id"]) if sessions else 0
        )

    def version(self) -> int | None:
        """Return a new value each time: a remote store may have changed at any moment."""
        return next(self._versions)

    def records(self, after: int) -> list[MessageRecord]:
        """Return this inbox's messages newer than `after`, oldest first."""
        ids = self._ids_after(after)
        return [self._record(message_id) for message_id in sorted(ids)]

    def _ids_after(self, after: int) -> list[int]:
        ids: list[int] = []
        before = ""
        while True:
            query = urllib.parse.urlencode({"inbox": self.inbox, "limit": PAGE}) + before
            page = [int(m["id"]) for m in self._json(f"/messages?{query}")["messages"]]
            ids += [i for i in page if i > after]
            if len(page) < PAGE or min(page) <= after:
                return ids
            before = f"&before={min(page)}"

    def _record(self, message_id: int) -> MessageRecord:
        record = self._records.get(message_id)
        if record is None:
            record = self._records[message_id] = message_record(
                self._json(f"/messages/{message_id}")
            )
        return record

    def source(self) -> MessageSource:
        """Return self: raw bytes and sessions come from the API."""
        return self

    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None once deleted."""
        status, body = self._request(f"/messages/{message_id}/raw")
        if status == 404:
            return None
        if status != 200:
            raise RemoteError(f"GET {API}/messages/{message_id}/raw answered {status}")
        return body

    def read_message(self, message_id: int) -> Message | None:
        """Return the message read from its raw bytes (fetched over the API), or None."""
        raw = self.raw(message_id)
        return read_message(raw) if raw is not None else None

    def get_session(self, session_id: int) -> SessionRecord | None:
        """Return one session with its transcript, or None."""
        data = self._json(f"/sessions/{session_id}", ok=(200, 404))
        return session_record(data) if data is not None else None

    def report(self, message_id: int) -> Report | None:
        """Return the message's deliverability report (the server's checks), or None."""
        data = self._json(f"/messages/{message_id}/checks", ok=(200, 404))
        return report_of(data) if data is not None else None

    def wait(self, version: int | None, after: int, timeout: float) -> None:
        """Block on the server until this inbox has a message newer than `after`."""
        seconds = max(0.0, min(timeout, MAX_WAIT))
        query = urllib.parse.urlencode(
            {"inbox": self.inbox, "after": after, "count": 1, "timeout": f"{seconds:.3f}"}
        )
        self._json(f"/wait?{query}", ok=(200, 408), timeout=seconds + REQUEST_TIMEOUT)

    async def wait_async(self, version: int | None, after: int, timeout: float) -> None:
        """Wait on the server from a worker thread, leaving the event loop free."""
        await asyncio.to_thread(self.wait, version, after, timeout)


def _netloc(parts: urllib.parse.SplitResult) -> str:
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port else host


def _basic_auth(parts: urllib.parse.SplitResult) -> dict[str, str]:
    """Turn user:password@ in the URL into a header (the server's --ui-auth)."""
    if parts.username is None:
        return {}
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def _mailbox(data: dict[str, Any] | None) -> Mailbox | None:
    return Mailbox(data.get("name"), str(data["address"])) if data else None


def _mailboxes(items: list[dict[str, Any]]) -> list[Mailbox]:
    return [Mailbox(i.get("name"), str(i["address"])) for i in items]


def message_record(data: dict[str, Any]) -> MessageRecord:
    """Build a record from the API's full-message JSON."""
    session = data.get("session_id")
    return MessageRecord(
        id=int(data["id"]),
        inbox=data["inbox"],
        session_id=int(session) if session is not None else None,
        received_at=data["received_at"],
        mail_from=data["mail_from"],
        mail_options=[],
        rcpt_to=list(data["rcpt_to"]),
        subject=data.get("subject") or "",
        from_=_mailbox(data.get("from")),
        to=_mailboxes(data.get("to", [])),
        cc=_mailboxes(data.get("cc", [])),
        reply_to=_mailboxes(data.get("reply_to", [])),
        message_id=data.get("message_id"),
        date=data.get("date"),
        size=int(data["size"]),
        read=bool(data.get("read")),
        warnings=[Warning_(w["code"], w["message"]) for w in data.get("warnings", [])],
        attachment_count=data.get("attachment_count"),
        snippet=data.get("snippet"),
        indexed=True,
        tags=[str(tag) for tag in data.get("tags", [])],
    )


def session_record(data: dict[str, Any]) -> SessionRecord:
    """Build a session (with its transcript) from the API's session JSON."""
    tls = data.get("tls") or {}
    return SessionRecord(
        id=int(data["id"]),
        inbox=data["inbox"],
        peer=data["peer"],
        helo=data.get("helo"),
        tls_version=tls.get("version"),
        tls_cipher=tls.get("cipher"),
        auth_user=data.get("auth_user"),
        started_at=data["started_at"],
        ended_at=data.get("ended_at"),
        end_reason=data.get("end_reason"),
        message_ids=[int(i) for i in data.get("message_ids", [])],
        kind=data.get("kind", "smtp"),
        problems=[Problem(p["code"], p["text"]) for p in data.get("problems", [])],
        transcript=[
            TranscriptEntry(e["at"], e["direction"], e["line"], bool(e.get("injected")))
            for e in data.get("transcript", [])
        ],
    )


def report_of(data: dict[str, Any]) -> Report:
    """Build a deliverability report from the API's JSON (its order is kept)."""
    fields = ("id", "category", "status", "title", "detail", "reference")
    return Report(tuple(Check(*(str(c[f]) for f in fields)) for c in data["checks"]))

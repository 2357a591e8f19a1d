"""Test support for the web API: a real sink with its web server, a small HTTP client, mail.

Served() starts an in-process sink (SMTP on 127.0.0.1 port 0) and serves the web app with
waitress on 127.0.0.1 port 0, as `mailtrap-lite` does; `request` talks to it over a real
socket. `stored_app` builds the Flask app around a Store filled directly, for the test client.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask

from mailtrap_lite.config import Address, Config
from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import Store
from mailtrap_lite.store.indexer import Indexer
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.testing import Sink
from mailtrap_lite.web import create_app


@dataclass
class Reply:
    """An HTTP response read in full."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Served:
    """A running sink plus its web server; stop() stops both."""

    def __init__(self, clock: Any = None, **settings: Any) -> None:
        config = Config(smtp=Address("127.0.0.1", 0)).replace(**settings)
        self.sink = Sink(config, config.db, http=Address("127.0.0.1", 0), clock=clock).start()
        self.store: Store = self.sink.store
        self.config = self.sink.config
        self.url = self.sink.web_url
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def connect(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        """Open a new HTTP connection to the web server."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        raw: bytes | None = None,
    ) -> Reply:
        """Send one request over a fresh connection and read the whole response (a JSON
        `body`, or `raw` bytes as they are)."""
        conn = self.connect(timeout)
        try:
            data = json.dumps(body).encode() if body is not None else raw
            sent = dict(headers or {})
            if data is not None:
                sent.setdefault("Content-Type", "application/json")
            url = path + ("?" + urlencode(params) if params else "")
            conn.request(method, url, body=data, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **params: Any) -> Reply:
        return self.request("GET", path, params)

    def send(self, message: bytes | EmailMessage, to: list[str] | None = None,
             sender: str = "sender@example.com") -> None:  # fmt: skip
        """Send one message over SMTP and return after its 250 reply."""
        send_mail(self.sink, message, to, sender)

    def stop(self) -> None:
        """Stop the web server and the sink (safe to repeat)."""
        self.sink.stop()


def send_mail(
    sink: Sink,
    message: bytes | EmailMessage,
    to: list[str] | None = None,
    sender: str = "sender@example.com",
) -> None:
    """Send one message to a sink with smtplib."""
    raw = message.as_bytes() if isinstance(message, EmailMessage) else message
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail(sender, to or ["rcpt@example.com"], raw)


def make_message(subject: str = "hello", body: str = "body text", **headers: str) -> EmailMessage:
    """Build a plain message; header keyword names use _ for - (X_Tag -> X-Tag)."""
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Sender <sender@example.com>")
    msg["To"] = headers.pop("To", "rcpt@example.com")
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def store_message(
    store: Store,
    raw: bytes,
    mail_from: str = "sender@example.com",
    rcpt_to: list[str] | None = None,
    received_at: str = "2024-05-10T12:00:00.000Z",
    inbox: str = "default",
) -> int:
    """Commit a message straight into a Store (no SMTP), as the capture handler would."""
    new = NewMessage(raw, mail_from, rcpt_to or ["rcpt@example.com"], None, inbox, received_at,
                     parse_summary(raw))  # fmt: skip
    return store.add_message(new)


def index_all(store: Store) -> None:
    """Run an indexer until every message is indexed.

    A running server's indexer may hold some of them (on PostgreSQL the nodes' indexers take
    turns: what one holds the others skip), so this also waits until none is left.
    """
    indexer = Indexer(store)
    until(lambda: not indexer.run_once() and store.stats()["unindexed"] == 0, timeout=60)


def stored_app(store: Store, **settings: Any) -> Flask:
    """Build the web app around a Store, for Flask's test client."""
    return create_app(store, Config().replace(**settings), "127.0.0.1:2525")


def until(condition: Any, timeout: float = 5.0) -> Any:
    """Return condition()'s first truthy value within timeout (bounded polling for tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout} s")

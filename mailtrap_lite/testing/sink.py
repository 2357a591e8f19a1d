"""An in-process SMTP sink for tests, usable without pytest (unittest, scripts).

    with Sink() as sink:
        smtplib.SMTP(sink.host, sink.port).sendmail(...)
        [message] = sink.wait_for(count=1)

The sink runs a mailtrap-lite App on its own event loop in a daemon thread, bound to
127.0.0.1 on a free port (port 0, the real port read back from the socket), with a temporary
database. TLS, limits and fault rules come from its Config:

    with Sink(Config(smtp=Address("127.0.0.1", 0), tls_self_signed=True)) as sink:
        client = smtplib.SMTP("localhost", sink.port)
        client.starttls(context=sink.client_tls_context())
        sink.faults.add("rcpt:to=*@bounce.test:550 5.1.1 No such user")

`http=Address("127.0.0.1", 0)` serves the web UI and JSON API beside it (`sink.web_url`);
`mailpit_http=` and `mailhog_http=` serve the Mailpit- and MailHog-compatible APIs on
listeners of their own (`sink.mailpit_url`, `sink.mailhog_url`), for clients of those tools.
"""

from __future__ import annotations

import ssl
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Unpack

from mailtrap_lite.app import App
from mailtrap_lite.checks import StoredReports
from mailtrap_lite.config import Address, Config
from mailtrap_lite.services.clock import Clock
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.smtp.server import SMTPServer
from mailtrap_lite.smtp.tls import client_context
from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change
from mailtrap_lite.testing.backends import Backend, Cursor, LocalBackend
from mailtrap_lite.testing.captured import CapturedMessage
from mailtrap_lite.testing.matching import FilterArgs
from mailtrap_lite.testing.view import SinkView


class Sink:
    """A running SMTP sink with its own Store; start/stop are idempotent."""

    def __init__(
        self,
        config: Config | None = None,
        db: Path | None = None,
        *,
        http: Address | None = None,
        mailpit_http: Address | None = None,
        mailhog_http: Address | None = None,
        clock: Clock | None = None,
    ) -> None:
        base = config or Config(smtp=Address("127.0.0.1", 0))
        self.config = base.replace(
            http=http,
            db=db,
            mailpit_http=mailpit_http or base.mailpit_http,
            mailhog_http=mailhog_http or base.mailhog_http,
        )
        self.clock = clock  # None: real time (a ManualClock moves --max-age and retries)
        self._app: App | None = None
        self._cursor = Cursor()
        self.backend: Backend = LocalBackend(self)

    def _running(self) -> App:
        if self._app is None:
            raise RuntimeError("the sink is not running: call start() first")
        return self._app

    @property
    def store(self) -> Store:
        """Return the sink's Store."""
        return self._running().store

    @property
    def reports(self) -> StoredReports:
        """Return the deliverability reports of the sink's messages."""
        return self._running().reports

    @property
    def server(self) -> SMTPServer:
        """Return the sink's SMTP listeners."""
        return self._running().smtp

    @property
    def host(self) -> str:
        """Return the host to send mail to."""
        return self.server.addresses[0][0]

    @property
    def port(self) -> int:
        """Return the real bound port."""
        return self.server.addresses[0][1]

    @property
    def smtps_port(self) -> int:
        """Return the implicit-TLS port (configure `smtps`, e.g. Address("127.0.0.1", 0))."""
        addresses = self.server.smtps_addresses
        if not addresses:
            raise RuntimeError("the sink has no implicit-TLS listener: set smtps in its Config")
        return addresses[0][1]

    @property
    def web_url(self) -> str:
        """Return the base URL of the web UI and JSON API (start it with http=...)."""
        url = self._running().web_url
        if url is None:
            raise RuntimeError("the sink serves no web UI: start it with http=Address(...)")
        return url

    @property
    def mailpit_url(self) -> str:
        """Return the base URL of the Mailpit-compatible listener (start it with mailpit_http=)."""
        return self._compat_url("mailpit")

    @property
    def mailhog_url(self) -> str:
        """Return the base URL of the MailHog-compatible listener (start it with mailhog_http=)."""
        return self._compat_url("mailhog")

    def _compat_url(self, name: str) -> str:
        url = self._running().compat_urls.get(name)
        if url is None:
            raise RuntimeError(
                f"the sink serves no {name} API: start it with {name}_http=Address(...)"
            )
        return url

    @property
    def app(self) -> App:
        """Return the running App (its relay, webhooks and metrics)."""
        return self._running()

    @property
    def faults(self) -> FaultRules:
        """Return the fault rules of the running sink; change them at any time."""
        return self.server.faults

    @property
    def tls_cert(self) -> Path:
        """Return the certificate the sink presents (the file a client should trust)."""
        tls = self.server.tls
        if tls is None:
            raise RuntimeError("the sink has no certificate: set tls_self_signed in its Config")
        return tls.cert

    def client_tls_context(self) -> ssl.SSLContext:
        """Return a client SSLContext that trusts the sink's certificate (verification on)."""
        return client_context(self.tls_cert)

    def start(self) -> Sink:
        """Start the store, the indexer and the SMTP server (and web server); return self."""
        if self._app is not None:
            return self
        app = App(self.config, clock=self.clock).start_in_thread()
        self._follow(app.store)
        self._app = app
        return self

    def _follow(self, store: Store) -> None:
        """Track the newest ids from the feed, so cursor() costs no query."""
        newest_message = store.list_messages(limit=1).messages
        newest_session = store.list_sessions(limit=1)
        self._cursor = Cursor(
            newest_message[0].id if newest_message else 0,
            newest_session[0].id if newest_session else 0,
        )
        store.feed.subscribe(self._advance)

    def _advance(self, change: Change) -> None:
        # Called on the committing thread before the 250 is sent, so once a client has its
        # reply the cursor already covers the message.
        if change.kind == "message":
            self._cursor = replace(self._cursor, message_id=max(change.ids))
        elif change.kind == "session" and max(change.ids) > self._cursor.session_id:
            self._cursor = replace(self._cursor, session_id=max(change.ids))

    def cursor(self) -> Cursor:
        """Return the newest message and session ids so far (messages newer than it are new)."""
        return self._cursor

    def stop(self) -> None:
        """Close sessions, stop the server and remove a temporary database; safe to repeat."""
        app, self._app = self._app, None
        if app is not None:
            app.stop_in_thread()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def messages(self, after: int = 0) -> list[CapturedMessage]:
        """Return the captured messages newer than id `after`, oldest first."""
        return SinkView(self, Cursor(message_id=after)).messages

    def clear(self) -> None:
        """Delete every captured message."""
        self.store.clear()

    def wait_for(
        self, count: int = 1, timeout: float = 5.0, after: int = 0, **filters: Unpack[FilterArgs]
    ) -> list[CapturedMessage]:
        """Wait for `count` matching messages newer than `after`; return them, oldest first.

        Takes the filters of SinkView.wait_for; on timeout it fails listing what arrived.
        """
        __tracebackhide__ = True
        found = SinkView(self, Cursor(message_id=after), timeout=timeout).wait_for(count, **filters)
        return found if isinstance(found, list) else [found]

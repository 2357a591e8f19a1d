"""An in-process SMTP sink for tests, usable without pytest (unittest, scripts).

    with Sink() as sink:
        smtplib.SMTP(sink.host, sink.port).sendmail(...)
        [message] = sink.wait_for(count=1)

The sink runs its SMTP server on its own event loop in a daemon thread, bound to 127.0.0.1 on
a free port (port 0, the real port read back from the socket), with a temporary database.
TLS, limits and fault rules come from its Config:

    with Sink(Config(smtp=Address("127.0.0.1", 0), tls_self_signed=True)) as sink:
        client = smtplib.SMTP("localhost", sink.port)
        client.starttls(context=sink.client_tls_context())
        sink.faults.add("rcpt:to=*@bounce.test:550 5.1.1 No such user")
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from mailtrap_lite.config import Address, Config
from mailtrap_lite.faults import FaultRules
from mailtrap_lite.indexer import Indexer
from mailtrap_lite.records import MessageRecord
from mailtrap_lite.server import SMTPServer
from mailtrap_lite.smtp import quiet_aiosmtpd_notices
from mailtrap_lite.store import Store
from mailtrap_lite.tls import client_context

if TYPE_CHECKING:
    from mailtrap_lite.feed import Change

START_TIMEOUT = 10.0

Predicate = Callable[[MessageRecord], bool]


class SinkTimeout(AssertionError):
    """wait_for gave up; the message lists what did arrive."""


@dataclass(frozen=True)
class Cursor:
    """The newest message id and session id at one moment; later ones are newer than it."""

    message_id: int = 0
    session_id: int = 0


class Sink:
    """A running SMTP sink with its own Store; start/stop are idempotent."""

    def __init__(self, config: Config | None = None, db: Path | None = None) -> None:
        base = config or Config(smtp=Address("127.0.0.1", 0))
        self.config = base.replace(http=None, db=db)
        self.store: Store | None = None
        self.server: SMTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._indexer: Indexer | None = None
        self._cursor = Cursor()

    @property
    def host(self) -> str:
        """Return the host to send mail to."""
        return self._server().addresses[0][0]

    @property
    def port(self) -> int:
        """Return the real bound port."""
        return self._server().addresses[0][1]

    @property
    def smtps_port(self) -> int:
        """Return the implicit-TLS port (configure `smtps`, e.g. Address("127.0.0.1", 0))."""
        addresses = self._server().smtps_addresses
        if not addresses:
            raise RuntimeError("the sink has no implicit-TLS listener: set smtps in its Config")
        return addresses[0][1]

    @property
    def faults(self) -> FaultRules:
        """Return the fault rules of the running sink; change them at any time."""
        return self._server().faults

    @property
    def tls_cert(self) -> Path:
        """Return the certificate the sink presents (the file a client should trust)."""
        tls = self._server().tls
        if tls is None:
            raise RuntimeError("the sink has no certificate: set tls_self_signed in its Config")
        return tls.cert

    def client_tls_context(self) -> ssl.SSLContext:
        """Return a client SSLContext that trusts the sink's certificate (verification on)."""
        return client_context(self.tls_cert)

    def _server(self) -> SMTPServer:
        if self.server is None:
            raise RuntimeError("the sink is not running: call start() first")
        return self.server

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the sink is not running: call start() first")
        return self.store

    def start(self) -> Sink:
        """Start the store, the indexer and the SMTP server; return self."""
        if self.server is not None:
            return self
        quiet_aiosmtpd_notices()
        store = Store(self.config.db, max_messages=self.config.max_messages,
                      max_sessions=self.config.max_sessions)  # fmt: skip
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="mailtrap-lite-sink", daemon=True)
        thread.start()
        store.end_orphaned_sessions()
        server = SMTPServer(store, self.config)
        try:
            asyncio.run_coroutine_threadsafe(server.start(), loop).result(START_TIMEOUT)
        except BaseException:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(START_TIMEOUT)
            _stop_loop(loop, thread)
            store.close()
            raise
        self._indexer = Indexer(store, self.config.index_max_text)
        self._indexer.start()
        self._follow(store)
        self.store, self.server, self._loop, self._thread = store, server, loop, thread
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
        server, loop, thread = self.server, self._loop, self._thread
        if server is None or loop is None or thread is None:
            return
        self.server = self._loop = self._thread = None
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(START_TIMEOUT)
        _stop_loop(loop, thread)
        if self._indexer is not None:
            self._indexer.stop()
        self._store().close()
        self.store = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def messages(self, after: int = 0, inbox: str | None = None) -> list[MessageRecord]:
        """Return the stored messages newer than id `after`, oldest first."""
        page = self._store().list_messages(inbox=inbox, limit=1_000_000, after=after)
        return list(reversed(page.messages))

    def clear(self) -> None:
        """Delete every captured message."""
        self._store().clear()

    def wait_for(
        self,
        count: int = 1,
        timeout: float = 5.0,
        where: Predicate | None = None,
        after: int = 0,
    ) -> list[MessageRecord]:
        """Wait for `count` matching messages newer than `after`; return them, oldest first."""
        feed = self._store().feed
        deadline = time.monotonic() + timeout
        while True:
            seen = feed.seq
            found = [m for m in self.messages(after) if where is None or where(m)]
            if len(found) >= count:
                return found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SinkTimeout(_timeout_message(count, timeout, found, self.messages(after)))
            feed.wait(seen, remaining)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(START_TIMEOUT)
    loop.close()


def _timeout_message(
    count: int, timeout: float, matching: list[MessageRecord], arrived: list[MessageRecord]
) -> str:
    lines = [
        f"expected {count} matching message(s) within {timeout:g} s, found {len(matching)};",
        f"{len(arrived)} message(s) arrived:",
    ]
    lines += [f"  #{m.id} from {m.mail_from} to {', '.join(m.rcpt_to)}: {m.subject!r}"
              for m in arrived]  # fmt: skip
    return "\n".join(lines)

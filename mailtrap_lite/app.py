"""The composition root: the one place that builds a running mailtrap-lite from its Config.

An App owns the Store, the SMTP listeners, the indexer and (when `config.http` is set) the
web server, and starts and stops them in order. The command line runs one on its main event
loop; `mailtrap_lite.testing.Sink`, the pytest plugin and the test harnesses run one on a loop
of its own in a daemon thread (`start_in_thread`). It is the only core module that imports
the web package, and only when a web server is wanted, so the core never needs Flask.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from mailtrap_lite.config import Config, user_data_dir
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.smtp.protocol import quiet_aiosmtpd_notices
from mailtrap_lite.smtp.server import SMTPServer
from mailtrap_lite.store import Store
from mailtrap_lite.store.indexer import Indexer
from mailtrap_lite.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from collections.abc import Coroutine

START_TIMEOUT = 10.0


def open_store(config: Config) -> Store:
    """Open the Store that `config.db_url` or `config.db` names (None: a temporary database).

    The PostgreSQL Store is imported only when asked for, so SQLite users never load psycopg.
    """
    if config.db_url is not None:
        from mailtrap_lite.store.postgres import PostgresStore

        return PostgresStore(
            config.db_url,
            files=user_data_dir() / "postgresql",
            max_messages=config.max_messages,
            max_sessions=config.max_sessions,
        )
    return SQLiteStore(
        config.db, max_messages=config.max_messages, max_sessions=config.max_sessions
    )


class App:
    """One mailtrap-lite instance: its Store, SMTP listeners, indexer and web server.

    `index_worker` parses message bodies for search in a worker process (the command line's
    choice: parsing in the server's own process competes with SMTP for the GIL); in-process
    sinks for tests index on a thread.
    """

    def __init__(self, config: Config, *, index_worker: bool = False) -> None:
        self.config = config
        self.index_worker = index_worker
        self._store: Store | None = None
        self._smtp: SMTPServer | None = None
        self._indexer: Indexer | None = None
        self.web: Any = None  # mailtrap_lite.web.serve.WebServer, imported only when serving
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> Store:
        """Return the open Store."""
        if self._store is None:
            raise RuntimeError("mailtrap-lite is not running: call start() first")
        return self._store

    @property
    def smtp(self) -> SMTPServer:
        """Return the running SMTP listeners."""
        if self._smtp is None:
            raise RuntimeError("mailtrap-lite is not running: call start() first")
        return self._smtp

    @property
    def faults(self) -> FaultRules:
        """Return the fault rules of the running SMTP listeners."""
        return self.smtp.faults

    @property
    def web_url(self) -> str | None:
        """Return the web UI's base URL, or None when no web server runs."""
        return str(self.web.url) if self.web is not None else None

    async def start(self) -> None:
        """Open the Store, listen for SMTP, serve the web app if configured, start indexing.

        Runs on the loop that will serve SMTP. If a part fails to start, the parts already
        started are stopped again and the error propagates.
        """
        quiet_aiosmtpd_notices()
        store = self._store = open_store(self.config)
        try:
            store.start_node(self.config.node_timeout)
            store.end_orphaned_sessions()
            smtp = self._smtp = SMTPServer(store, self.config)
            await smtp.start()  # a listener bound before a failure is closed by stop()
            if self.config.http is not None:
                self.web = self._serve_web(store, smtp)
            self._indexer = Indexer(store, self.config.index_max_text, worker=self.index_worker)
            self._indexer.start()
        except BaseException:
            await self.stop()
            raise

    def _serve_web(self, store: Store, smtp: SMTPServer) -> Any:
        # Lazy: the core runs without Flask. mypy cannot follow the web package mapping.
        from mailtrap_lite.web.serve import WebServer  # type: ignore[import-not-found]

        web = WebServer(store, self.config, smtp.address, smtp.faults)
        web.start()
        return web

    async def stop(self) -> None:
        """Stop serving: end web requests, close SMTP sessions (421), stop indexing, close.

        Safe to repeat, and after a start() that failed part of the way.
        """
        web, self.web = self.web, None
        smtp, self._smtp = self._smtp, None
        indexer, self._indexer = self._indexer, None
        store, self._store = self._store, None
        if web is not None:
            web.stop()
        if smtp is not None:
            await smtp.stop()
        if indexer is not None:
            indexer.stop()
        if store is not None:
            store.close()

    # -- on a loop of its own (in-process sinks, tests) --------------------------------------

    def start_in_thread(self) -> App:
        """Start on a new event loop in a daemon thread; return self once serving."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="mailtrap-lite", daemon=True)
        thread.start()
        try:
            _run_on(loop, self.start())
        except BaseException:
            _stop_loop(loop, thread)
            raise
        self._loop, self._thread = loop, thread
        return self

    def stop_in_thread(self) -> None:
        """Stop what start_in_thread started and end its thread; safe to repeat."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        try:
            _run_on(loop, self.stop())
        finally:
            _stop_loop(loop, thread)


def _run_on(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run_coroutine_threadsafe(coroutine, loop).result(START_TIMEOUT)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(START_TIMEOUT)
    loop.close()

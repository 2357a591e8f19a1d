"""The composition root: the one place that builds a running mailtrap-lite from its Config.

An App owns the Store, the SMTP listeners, the indexer, the deliverability reports and (when
`config.http` is set) the web server, and starts and stops them in order. The command line
runs one on its main event loop; `mailtrap_lite.testing.Sink`, the pytest plugin and the test
harnesses run one on a loop of its own in a daemon thread (`start_in_thread`). It is the only
core module that imports the web package, and only when a web server is wanted, so the core
never needs Flask.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mailtrap_lite.checks import StoredReports
from mailtrap_lite.config import Config, ConfigError, user_data_dir
from mailtrap_lite.services.clock import Clock
from mailtrap_lite.services.counts import RuntimeCounts
from mailtrap_lite.services.followers import Followers
from mailtrap_lite.services.retention import AgePruner
from mailtrap_lite.services.webhooks import Webhooks
from mailtrap_lite.smtp.engine import quiet_aiosmtpd_notices
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.smtp.observer import ObserverGroup, SMTPObserver
from mailtrap_lite.smtp.relay import Relay, read_relay_config
from mailtrap_lite.smtp.server import SMTPServer
from mailtrap_lite.store import StorageError, Store
from mailtrap_lite.store.indexer import Indexer
from mailtrap_lite.store.query import Query, QueryError, parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.store.sqlite.lock import DatabaseLock

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from mailtrap_lite.checks.checker import Checker
    from mailtrap_lite.services.metrics import Metrics

START_TIMEOUT = 10.0
WATCH_SECONDS = 1.0  # how often the database file is checked (deleted, replaced)


def open_store(config: Config) -> Store:
    """Open the Store that `config.db_url` or `config.db` names (None: a temporary database).

    A SQLite file is checked first. The PostgreSQL Store is imported only when asked for, so
    SQLite users never load psycopg.
    """
    if config.db_url is not None:
        from mailtrap_lite.store.postgres import PostgresStore

        return PostgresStore(
            config.db_url,
            files=user_data_dir() / "postgresql",
            max_messages=config.max_messages,
            max_sessions=config.max_sessions,
            query_seconds=config.query_timeout,
        )
    return SQLiteStore(
        config.db,
        max_messages=config.max_messages,
        max_sessions=config.max_sessions,
        check="full" if config.check_db else "quick",
        query_seconds=config.query_timeout,
    )


class App:
    """One mailtrap-lite instance: its Store, SMTP listeners, indexer and web server.

    `index_worker` parses message bodies for search in a worker process (the command line's
    choice: parsing in the server's own process competes with SMTP for the GIL); in-process
    sinks for tests index on a thread.
    """

    def __init__(
        self, config: Config, *, index_worker: bool = False, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.index_worker = index_worker
        self.clock = clock or Clock()
        self._store: Store | None = None
        self._smtp: SMTPServer | None = None
        self._indexer: Indexer | None = None
        self._reports: StoredReports | None = None
        self.relay: Relay | None = None
        self.counts: RuntimeCounts | None = None  # since start, for Mailpit's /api/v1/info
        self.metrics: Metrics | None = None
        self.webhooks: Webhooks | None = None
        self._background: list[Followers | AgePruner] = []
        self.ready = False  # the store is open and SMTP listens (GET /readyz)
        self._db_lock: DatabaseLock | None = None
        self._watch: asyncio.Task[None] | None = None
        self.web: Any = None  # mailtrap_lite.web.serve.WebServer, imported only when serving
        self.compat: dict[str, Any] = {}  # "mailpit", "mailhog": their WebServers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.failure: str | None = None  # why a part stopped for good while serving
        self._failure_listeners: list[Callable[[str], None]] = []

    @property
    def store(self) -> Store:
        """Return the open Store."""
        if self._store is None:
            raise RuntimeError("mailtrap-lite is not running: call start() first")
        return self._store

    @property
    def reports(self) -> StoredReports:
        """Return the deliverability reports of the stored messages."""
        if self._reports is None:
            raise RuntimeError("mailtrap-lite is not running: call start() first")
        return self._reports

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

    @property
    def compat_urls(self) -> dict[str, str]:
        """Return the base URLs of the Mailpit- and MailHog-compatible listeners that run."""
        return {name: str(server.url) for name, server in self.compat.items()}

    def on_failure(self, listener: Callable[[str], None]) -> None:
        """Call `listener(reason)` (from any thread) when a part stops for good while serving.

        The command line stops and exits non-zero then: a server that no longer answers on
        one of its ports must not look alive to whoever supervises it.
        """
        self._failure_listeners.append(listener)

    def _ready(self) -> bool:
        """Tell whether every part serves (GET /readyz): started, and nothing failed since."""
        return self.ready and self.failure is None

    def _fail(self, reason: str) -> None:
        if self.failure is not None:
            return  # the first failure is the one worth reporting
        self.failure = reason
        for listener in self._failure_listeners:
            listener(reason)

    async def start(self) -> None:
        """Open the Store, listen for SMTP, serve the web app if configured, start indexing.

        Runs on the loop that will serve SMTP. A database file is locked first (DatabaseLocked
        when another process serves it). If a part fails to start, the parts already started
        are stopped again and the error propagates.
        """
        quiet_aiosmtpd_notices()
        rules = _rules(self.config)  # a bad rule or relay file stops before anything opens
        relay_settings = _relay_settings(self.config)
        try:
            # First of all: a second server on this database must fail before it changes it.
            if self.config.db is not None:
                self._db_lock = DatabaseLock.acquire(self.config.db)
            store = self._store = open_store(self.config)
            self._reports = _reports(store, self.config)
            # PostgreSQL: serve as one node of those sharing the database, then end only the
            # sessions of nodes that are gone (SQLite: the lock is ours, no other server has
            # sessions).
            store.start_node(self.config.node_timeout)
            store.end_orphaned_sessions()
            self._start_services(store, relay_settings)
            smtp = self._smtp = SMTPServer(store, self.config, self._observer())
            await smtp.start()  # a listener bound before a failure is closed by stop()
            self._serve_web(store, smtp)
            # In process (tests), indexing waits for the open sessions: see store/indexer.py.
            busy = None if self.index_worker else lambda: bool(smtp.handler.live)
            self._indexer = Indexer(store, self.config.index_max_text, self.index_worker, busy)
            self._indexer.start()
            self._start_background(store, rules)
            if self._db_lock is not None:
                self._db_lock.announce(self.web_url)
            self._watch = asyncio.get_running_loop().create_task(self._watch_database(store))
            self.ready = True
        except BaseException:
            await self.stop()
            raise

    async def _watch_database(self, store: Store) -> None:
        """Fail (the command line exits) once the database file is deleted or replaced."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                store.check_file()
            except StorageError as error:
                self._fail(str(error))
                return

    def _start_services(self, store: Store, relay_settings: Any) -> None:
        """Make the metrics, the relay and the webhook queue the other parts report to."""
        config = self.config
        self.counts = RuntimeCounts(store)
        if config.metrics_on:
            from mailtrap_lite.services.metrics import Metrics  # prometheus_client: ~70 ms

            self.metrics = Metrics(store)
        if relay_settings is not None:
            self.relay = Relay(relay_settings, store, config.hostname)
            if self.metrics is not None:
                self.relay.listeners.append(self.metrics.released)
        if config.webhooks:
            self.webhooks = Webhooks(config.webhooks, config.webhook_secret, self.clock,
                                     attempts=config.webhook_attempts,
                                     queue=config.webhook_queue,
                                     timeout=config.webhook_timeout)  # fmt: skip
            self.webhooks.start()
            if self.metrics is not None:
                self.metrics.webhooks = self.webhooks

    def _observer(self) -> SMTPObserver:
        """Return what SMTP tells its events to: the runtime counts, and the metrics if on."""
        assert self.counts is not None  # made by _start_services
        if self.metrics is None:
            return self.counts
        return ObserverGroup(self.counts, self.metrics)

    def _start_background(self, store: Store, rules: list[tuple[str, Query]]) -> None:
        """Start what follows new mail (rules, webhooks) and pruning by age."""
        config = self.config
        matching = parse_query(config.relay_matching) if config.relay_matching else None
        if rules or matching is not None or self.webhooks is not None:
            followers = Followers(store, tag_rules=rules, relay=self.relay,
                                  relay_matching=matching, webhooks=self.webhooks,
                                  summarize=_summarizer() if self.webhooks else None)  # fmt: skip
            self._background.append(followers)
        if config.max_age is not None:
            self._background.append(AgePruner(store, config.max_age, self.clock))
        for part in self._background:
            part.start()

    def _serve_web(self, store: Store, smtp: SMTPServer) -> None:
        """Start the web listeners the Config asks for: the UI and API, Mailpit's, MailHog's."""
        config = self.config
        if config.http is None and config.mailpit_http is None and config.mailhog_http is None:
            return
        # Lazy: the core runs without Flask. mypy cannot follow the web package mapping.
        from mailtrap_lite.web.serve import listeners  # type: ignore[import-not-found]

        servers = listeners(store, config, smtp.address, smtp.faults, relay=self.relay,
                            webhooks=self.webhooks, metrics=self.metrics, counts=self.counts,
                            reports=self._reports, ready=self._ready,
                            on_failure=self._fail)  # fmt: skip
        self.web = servers.pop("http", None)
        self.compat = servers
        for server in [self.web, *self.compat.values()]:
            if server is not None:
                server.start()

    async def stop(self) -> None:
        """Stop serving: end web requests, close SMTP sessions (421), stop indexing, close.

        Safe to repeat, and after a start() that failed part of the way.
        """
        self.ready = False
        web, self.web = self.web, None
        compat, self.compat = self.compat, {}
        smtp, self._smtp = self._smtp, None
        indexer, self._indexer = self._indexer, None
        background, self._background = self._background, []
        webhooks, self.webhooks = self.webhooks, None
        metrics, self.metrics = self.metrics, None
        counts, self.counts = self.counts, None
        store, self._store = self._store, None
        self._reports = None
        db_lock, self._db_lock = self._db_lock, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
        for server in [web, *compat.values()]:
            if server is not None:
                server.stop()
        if smtp is not None:
            await smtp.stop()
        if indexer is not None:
            indexer.stop()
        for part in background:
            part.stop()
        if webhooks is not None:
            webhooks.stop()
        if metrics is not None:
            metrics.close()
        if counts is not None:
            counts.close()
        if store is not None:
            store.close()
        if db_lock is not None:
            db_lock.release()

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


def _reports(store: Store, config: Config) -> StoredReports:
    """Keep the reports of the stored mail; load the checks now only if an option needs them.

    With DKIM keys or spamd given, a bad one stops the start; without them nothing can fail,
    and the checks (DKIM, DNS and crypto libraries, 0.15-0.5 s) load when a report is first read.
    """

    def make_checker() -> Checker:
        from mailtrap_lite.checks.checker import Checker

        return Checker.from_config(config)

    if config.dkim_keys or config.spamd is not None:
        return StoredReports(store, make_checker())
    return StoredReports(store, make_checker=make_checker)


def _rules(config: Config) -> list[tuple[str, Query]]:
    """Parse the --tag rules' queries; ConfigError names the bad one."""
    rules = []
    for name, text in config.tag_rules:
        try:
            rules.append((name, parse_query(text)))
        except QueryError as error:
            raise ConfigError(f"--tag {name}={text}: {error}") from None
    return rules


def _relay_settings(config: Config) -> Any:
    """Read --relay-config; refuse --relay-matching without it or without an allow-list."""
    settings = read_relay_config(config.relay_config) if config.relay_config else None
    if config.relay_matching is not None:
        if settings is None:
            raise ConfigError("--relay-matching needs --relay-config")
        if settings.allowed_recipients is None:
            raise ConfigError(
                "--relay-matching needs allowed_recipients in the --relay-config file:"
                " without it anyone who reaches the SMTP port could relay mail through it"
            )
        try:
            parse_query(config.relay_matching)
        except QueryError as error:
            raise ConfigError(f"--relay-matching: {error}") from None
    return settings


def _summarizer() -> Any:
    """Return the API's summary shape for webhook bodies (the web package holds wire shapes)."""
    from mailtrap_lite.web.shapes import summary  # type: ignore[import-not-found]

    return summary


def _run_on(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run_coroutine_threadsafe(coroutine, loop).result(START_TIMEOUT)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(START_TIMEOUT)
    loop.close()

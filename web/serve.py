"""Serving the web app with waitress in threads, beside the SMTP loop, in one process.

Under WSGI each open wait or event stream holds a thread (DESIGN.md), so the pool is sized
for them and the web layer caps how many may be open at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from mailtrap_lite.config import Address, BindError, Config, format_hostport
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store

from .app import create_app, create_mailhog_app, create_mailpit_app, search_gate
from .context import EXTENSION, STOP_HOOKS

log = logging.getLogger(__name__)

THREADS = 64
LOOP_TIMEOUT = 0.5  # seconds between the socket loop's looks at the stop flag, at most
# poll(), not waitress's default select(): select() cannot watch a descriptor numbered 1024 or
# more, and with a thousand SMTP connections open the next web socket is one; the socket
# loop then raised ValueError and the web server was gone for good.
USE_POLL = True
CLEANUP_SECONDS = 2  # how often idle connections are looked for


def listeners(
    store: Store,
    config: Config,
    smtp_address: str,
    faults: FaultRules | None = None,
    on_failure: Callable[[str], None] | None = None,
    **services: Any,
) -> dict[str, WebServer]:
    """Bind every web listener the Config asks for: "http" (UI and API), "mailpit", "mailhog".

    Each serves an app from web/app.py's one builder, so the same guards apply to all, and
    they share one cap on searches at once (--max-searches). If one cannot bind, those
    already bound are closed and the BindError propagates. If one's socket loop dies while
    serving, `on_failure` hears why.
    """
    wanted = [
        ("http", config.http, create_app),
        ("mailpit", config.mailpit_http, create_mailpit_app),
        ("mailhog", config.mailhog_http, create_mailhog_app),
    ]
    services.setdefault("searches", search_gate(config))  # one cap for every listener
    servers: dict[str, WebServer] = {}
    try:
        for name, address, build in wanted:
            if address is not None:
                app = build(store, config, smtp_address, faults, **services)
                servers[name] = WebServer(app, address, on_failure)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


class WebServer:
    """A web app on its own thread and listener; `url` is known once bound.

    The app's Config (in its context) gives the connection limits; `on_failure` hears why
    the socket loop died, if it ever does.
    """

    def __init__(
        self, app: Flask, address: Address, on_failure: Callable[[str], None] | None = None
    ) -> None:
        config: Config = app.extensions[EXTENSION].config
        self.app = app
        self._stop_hooks: list[Any] = app.extensions.get(STOP_HOOKS, [])
        listen = _listen(address)
        try:
            self._server: Any = create_server(
                app, listen=listen, threads=THREADS, ident="mailtrap-lite",
                asyncore_use_poll=USE_POLL,
                # Idle and half-sent connections cost no thread, only a place under the limit
                # (waitress's default of 100 was filled by 101 idle sockets); they are closed
                # after http_idle_timeout, looked for every CLEANUP_SECONDS.
                connection_limit=config.http_max_connections,
                channel_timeout=max(1, round(config.http_idle_timeout)),
                cleanup_interval=CLEANUP_SECONDS,
            )  # fmt: skip
        except OSError as error:
            raise BindError(error.errno, f"cannot listen on {listen}: {error.strerror}") from None
        self._stopping = threading.Event()
        self._on_failure = on_failure
        self._thread = threading.Thread(target=self._run, name="mailtrap-lite-web", daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL of the bound address."""
        host, port = str(self._server.effective_host), int(self._server.effective_port)
        return f"http://{format_hostport(host, port)}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def _run(self) -> None:
        """Run waitress's socket loop until stop(), then close every socket on this thread.

        waitress's own run() loops until its socket map is empty, and the only way to end it
        from another thread is its trigger pipe. That pipe's descriptor was seen closed under
        it during shutdown (EBADF on the write), which left the loop running; a flag checked
        at every turn (at most LOOP_TIMEOUT apart) ends the loop whatever becomes of the pipe.
        Closing the sockets here, not from stop()'s thread, avoids racing select() (EBADF).
        If the loop dies, `on_failure` hears why: a process serving no web requests must not
        look alive to its supervisor.
        """
        server = self._server
        poll = wasyncore.poll2 if server.adj.asyncore_use_poll else wasyncore.poll
        failure: str | None = None
        try:
            while server._map and not self._stopping.is_set():
                poll(LOOP_TIMEOUT, server._map)
            if not self._stopping.is_set():
                failure = "the web server's sockets closed"
        except Exception as error:
            log.exception("the web server's socket loop failed")
            failure = f"the web server stopped: {error!r}"
        finally:
            self._close_all()
        if failure is not None and self._on_failure is not None:
            self._on_failure(failure)

    def stop(self) -> None:
        """End waits and streams, let running requests finish, close the sockets."""
        for hook in self._stop_hooks:
            hook()
        self._server.task_dispatcher.shutdown(timeout=5)
        self._stopping.set()
        if not self._thread.is_alive():  # never started, or already ended: nothing races
            self._close_all()
            return
        try:
            self._server.trigger.pull_trigger()  # wakes the loop now rather than at its timeout
        except OSError:
            pass  # the loop sees the flag within LOOP_TIMEOUT all the same
        self._thread.join(timeout=LOOP_TIMEOUT + 5)

    def _close_all(self) -> None:
        wasyncore.close_all(self._server._map)


def _listen(address: Address) -> str:
    """Return waitress's listen string: "localhost" serves on 127.0.0.1."""
    return format_hostport(address.hosts()[0], address.port)

"""This worker's sink: started on first use, stopped when the run ends."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from mailtrap_lite.backends import as_backend
from mailtrap_lite.config import Address, Config
from mailtrap_lite.remote import RemoteSink
from mailtrap_lite.sinkview import Timeline, warn_unclaimed
from mailtrap_lite.testing import Cursor, Sink
from mailtrap_lite.webserve import WebServer

from .options import Settings

LOCAL = "127.0.0.1"


def worker_id(config: pytest.Config) -> str:
    """Return the xdist worker id ("gw0", ...) or "main" without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


class WorkerSink:
    """The sink of this worker, the web UI beside it, and which test runs when."""

    def __init__(self, settings: Settings, name: str, keep_dir: Path | None) -> None:
        self.settings = settings
        self.name = name
        self.keep_dir = keep_dir
        self.timeline = Timeline()
        self.current_test: str | None = None
        self.current_start: Cursor | None = None
        self._ended: tuple[str, int] | None = None  # the last test to end, its newest message
        self.db: Path | None = None
        self._sink: Sink | RemoteSink | None = None
        self._web: WebServer | None = None

    @property
    def started(self) -> bool:
        """Say whether the sink runs."""
        return self._sink is not None

    @property
    def ui_url(self) -> str | None:
        """Return the web UI's URL: served by --smtp-sink-ui, or the external server's."""
        if isinstance(self._sink, RemoteSink):
            return self._sink.url
        return self._web.url if self._web else None

    def sink(self) -> Sink | RemoteSink:
        """Return the running sink, starting it (and the UI) on first use."""
        if self._sink is None:
            self._sink = self._start()
            if self.current_test is not None:  # started inside a test: it begins now
                self.current_start = self._sink.cursor()
                self.timeline.begin(self.current_test, self.current_start)
        return self._sink

    def _start(self) -> Sink | RemoteSink:
        if self.settings.url is not None:
            # One inbox per worker and run: the AUTH user name chooses the inbox.
            return RemoteSink(self.settings.url, f"pytest-{self.name}-{secrets.token_hex(4)}")
        sink = Sink(Config(smtp=Address(LOCAL, 0)), db=self._database()).start()
        if self.settings.ui:
            self._web = self._serve(sink)
        return sink

    def _database(self) -> Path | None:
        if not self.settings.keep or self.keep_dir is None:
            return None
        self.keep_dir.mkdir(parents=True, exist_ok=True)
        self.db = self.keep_dir / f"{self.name}.db"
        for suffix in ("", "-wal", "-shm"):  # a kept database holds one run only
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        return self.db

    def _serve(self, sink: Sink) -> WebServer:
        assert sink.store is not None and sink.server is not None
        config = sink.config.replace(http=Address(LOCAL, 0))
        web = WebServer(sink.store, config, sink.server.address, sink.server.faults)
        web.start()
        return web

    def test_begins(self, name: str) -> None:
        """Note the start of a test: mail acknowledged from now on is its mail."""
        self.current_test = name
        self.current_start = None
        if self._sink is not None:
            self.current_start = self._sink.cursor()
            if self._ended is not None:
                warn_unclaimed(as_backend(self._sink), *self._ended, self.current_start, name)
            self.timeline.begin(name, self.current_start)

    def test_ends(self, name: str) -> None:
        """Note the end of a test: mail from now until the next test is nobody's."""
        if self._sink is not None:
            self._ended = (name, self._sink.cursor().message_id)

    def describe(self) -> str:
        """Return where this worker's sink listens, its UI and its kept database."""
        if self._sink is None:
            return f"{self.name}: not started (no test used it)"
        if isinstance(self._sink, RemoteSink):
            where = f"smtp {self._sink.host}:{self._sink.port}, inbox {self._sink.inbox}"
            return f"{self.name}: external {self._sink.url}, {where}"
        parts = [f"smtp {self._sink.host}:{self._sink.port}"]
        if self._web:
            parts.append(f"ui {self._web.url}")
        if self.db:
            parts.append(f"db {self.db} (view it with: mailtrap-lite --db {self.db})")
        return f"{self.name}: " + ", ".join(parts)

    def stop(self) -> None:
        """Stop the UI and the sink; a kept database stays."""
        if self._web is not None:
            self._web.stop()
            self._web = None
        if isinstance(self._sink, Sink):
            self._sink.stop()
        self._sink = None

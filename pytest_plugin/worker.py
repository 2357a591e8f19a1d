"""This worker's sink: started on first use, stopped when the run ends."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mailtrap_lite.config import Address, Config

from .options import Settings

# The sink's modules load when it starts, never when the plugin is imported: every pytest run
# in an environment with mailtrap-lite installed imports the plugin.
if TYPE_CHECKING:
    from mailtrap_lite.testing import Cursor, Sink
    from mailtrap_lite.testing.remote import RemoteInbox
    from mailtrap_lite.testing.view import Timeline

LOCAL = "127.0.0.1"


def worker_id(config: pytest.Config) -> str:
    """Return the xdist worker id ("gw0", ...) or "main" without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


class Worker:
    """This worker's sink (started on first use), the web UI beside it, which test runs when."""

    def __init__(self, settings: Settings, name: str, keep_dir: Path | None) -> None:
        self.settings = settings
        self.name = name
        self.keep_dir = keep_dir
        self._timeline: Timeline | None = None
        self.current_test: str | None = None
        self.current_start: Cursor | None = None
        self._ended: tuple[str, int] | None = None  # the last test to end, its newest message
        self.db: Path | None = None
        self.inbox = f"pytest-{name}-{secrets.token_hex(4)}"  # external mode: this run's inbox
        self._sink: Sink | RemoteInbox | None = None

    @property
    def started(self) -> bool:
        """Say whether the sink runs."""
        return self._sink is not None

    @property
    def timeline(self) -> Timeline:
        """Return which test was running when each SMTP session began."""
        if self._timeline is None:
            from mailtrap_lite.testing.view import Timeline

            self._timeline = Timeline()
        return self._timeline

    @property
    def ui_url(self) -> str | None:
        """Return the web UI's URL: served by --smtp-sink-ui, or the external server's."""
        if self.settings.url is not None:
            return self.settings.url
        local = self._local()
        return local.web_url if local is not None and self.settings.ui else None

    def _local(self) -> Sink | None:
        """Return the running in-process sink (None in external mode or before it starts)."""
        if self._sink is None or self.settings.url is not None:
            return None
        from mailtrap_lite.testing import Sink

        return self._sink if isinstance(self._sink, Sink) else None

    def sink(self) -> Sink | RemoteInbox:
        """Return the running sink, starting it (and the UI) on first use."""
        if self._sink is None:
            self._sink = self._start()
            if self.current_test is not None:  # started inside a test: it begins now
                self.current_start = self._sink.cursor()
                self.timeline.begin(self.current_test, self.current_start)
        return self._sink

    def _start(self) -> Sink | RemoteInbox:
        if self.settings.url is not None:
            from mailtrap_lite.testing.remote import RemoteInbox

            # One inbox per worker and run: the AUTH user name chooses the inbox.
            return RemoteInbox(self.settings.url, self.inbox)
        from mailtrap_lite.testing import Sink

        settings = self.settings
        http = Address(LOCAL, 0) if settings.ui else None
        mailpit = Address(LOCAL, 0) if settings.mailpit else None
        mailhog = Address(LOCAL, 0) if settings.mailhog else None
        return Sink(Config(smtp=Address(LOCAL, 0)), db=self._database(), http=http,
                    mailpit_http=mailpit, mailhog_http=mailhog).start()  # fmt: skip

    def _database(self) -> Path | None:
        if not self.settings.keep or self.keep_dir is None:
            return None
        self.keep_dir.mkdir(parents=True, exist_ok=True)
        self.db = self.keep_dir / f"{self.name}.db"
        for suffix in ("", "-wal", "-shm"):  # a kept database holds one run only
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        return self.db

    def test_begins(self, name: str) -> None:
        """Note the start of a test: mail acknowledged from now on is its mail."""
        self.current_test = name
        self.current_start = None
        if self._sink is not None:
            self.current_start = self._sink.cursor()
            if self._ended is not None:
                from mailtrap_lite.testing.view import warn_unclaimed

                warn_unclaimed(self._sink.backend, *self._ended, self.current_start, name)
            self.timeline.begin(name, self.current_start)

    def test_ends(self, name: str) -> None:
        """Note the end of a test: mail from now until the next test is nobody's."""
        if self._sink is not None:
            self._ended = (name, self._sink.cursor().message_id)

    def describe(self) -> str:
        """Return where this worker's sink listens, its UI and its kept database."""
        if self._sink is None:
            return f"{self.name}: not started (no test used it)"
        if self._local() is None:
            where = f"smtp {self._sink.host}:{self._sink.port}"
            return f"{self.name}: external {self.settings.url}, {where}, inbox {self.inbox}"
        parts = [f"smtp {self._sink.host}:{self._sink.port}"]
        if self.ui_url:
            parts.append(f"ui {self.ui_url}")
        if self.db:
            parts.append(f"db {self.db} (view it with: mailtrap-lite --db {self.db})")
        return f"{self.name}: " + ", ".join(parts)

    def stop(self) -> None:
        """Stop the sink and its UI; a kept database stays."""
        local, self._sink = self._local(), None
        if local is not None:
            local.stop()

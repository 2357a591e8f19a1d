"""Shared fixtures: a running in-process sink on 127.0.0.1, port 0; fuzzing profiles."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import Served
from tests.process import ServerProcess, start_server

# The pytest plugin's own tests run small test suites with pytester.
pytest_plugins = ["pytester"]

# Fuzzing: a bounded, repeatable run in CI ("ci"); thousands of fresh examples by hand with
# `pytest tests/test_fuzz_*.py --hypothesis-profile=long` (or HYPOTHESIS_PROFILE=long).
_FUZZ_BASE = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_FUZZ_BASE)
settings.register_profile("long", max_examples=5000, **_FUZZ_BASE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def spamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Address]:
    """Start SpamAssassin's spamd once per worker, on 127.0.0.1 (skipped when not installed)."""
    from tests.spamdkit import run_spamd

    yield from run_spamd(tmp_path_factory.mktemp("spamd") / "spamd.log")


@pytest.fixture(autouse=True)
def _no_browser_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let a test that drives no browser run asyncio, even after a browser test in this worker.

    Playwright's sync API leaves its event loop marked as running on the main thread once
    the session's Chromium has started, and asyncio.run() then refuses to start: tests of
    asyncio code failed whenever xdist gave them a worker that had run a browser test first.
    """
    if "chromium" in request.fixturenames:
        yield
        return
    running = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(running)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """Start a sink with default settings and a temporary database."""
    with Sink() as running:
        yield running


@pytest.fixture
def make_sink() -> Iterator[object]:
    """Start sinks with other settings: make_sink(max_recipients=2, ...)."""
    started: list[Sink] = []

    def make(**settings: object) -> Sink:
        config = Config(smtp=Address("127.0.0.1", 0)).replace(**settings)
        sink = Sink(config).start()
        started.append(sink)
        return sink

    yield make
    for sink in started:
        sink.stop()


@pytest.fixture
def launch() -> Iterator[Callable[..., ServerProcess]]:
    """Start `mailtrap-lite` subprocesses that are killed at teardown if still running."""
    started: list[ServerProcess] = []

    def start(*args: str, **kwargs: object) -> ServerProcess:
        server = start_server(*args, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.stop(signal.SIGKILL)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Run inner suites without pytest-benchmark, which refuses to run beside xdist."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:benchmark")
    return pytester


@pytest.fixture
def served() -> Iterator[Served]:
    """Start a sink and its web server (waitress) on 127.0.0.1, port 0."""
    running = Served()
    yield running
    running.stop()


@pytest.fixture
def make_served() -> Iterator[object]:
    """Start sinks with web servers with other settings: make_served(ui_auth=(...), ...)."""
    started: list[Served] = []

    def make(**settings: object) -> Served:
        running = Served(**settings)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


# -- browser tests (tests/test_ui_*.py): one Chromium per test session, a fresh page per test


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Launch Debian's headless Chromium once for the whole test session."""
    from playwright.sync_api import sync_playwright

    from tests.uikit import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def ui_server() -> Iterator[object]:
    """Start a sink with the web UI, both on 127.0.0.1 port 0."""
    from tests.uikit import UIServer

    with UIServer() as server:
        yield server


@pytest.fixture
def make_ui_server() -> Iterator[object]:
    """Start UI servers with other settings: make_ui_server(credentials={"u": "p"})."""
    from tests.uikit import UIServer

    started: list[UIServer] = []

    def make(**settings: object) -> UIServer:
        server = UIServer(Config(smtp=Address("127.0.0.1", 0)).replace(**settings)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    """Open a fresh browser context and page; `page.dialogs` lists every dialog that fired."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(10_000)
    yield page
    context.close()

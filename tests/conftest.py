"""Shared fixtures: a running in-process sink on 127.0.0.1, port 0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import Served


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

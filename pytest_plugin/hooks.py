"""pytest hooks: options, the per-test start mark, report sections, header and summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .fixtures import VIEWS, WORKER, worker_sink
from .options import MARKER, add_options, resolve
from .worker import Worker, worker_id

REMOTE = pytest.StashKey[list[str]]()
OUTPUT_KEY = "mailtrap_lite_smtp_sink"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register --smtp-sink-* options and their ini keys."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and read the options; nothing starts here."""
    config.addinivalue_line("markers", MARKER)
    settings = resolve(config)
    keep_dir = _keep_dir(config) if settings.keep and settings.url is None else None
    config.stash[WORKER] = Worker(settings, worker_id(config), keep_dir)
    config.stash[REMOTE] = []


def _keep_dir(config: pytest.Config) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("smtp-sink"))
    return config.rootpath / ".pytest_cache" / "smtp-sink"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop this worker's sink (a kept database stays)."""
    holder = config.stash.get(WORKER, None)
    if holder is not None:
        holder.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Mark where this test's mail begins, before any fixture of the test runs."""
    worker_sink(item.config).test_begins(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    """Mark where this test's mail ends, once all its fixtures are torn down."""
    try:
        return (yield)
    finally:
        worker_sink(item.config).test_ends(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, add a report section listing the mail this test captured."""
    report = yield
    views = item.stash.get(VIEWS, None)
    if views and report.failed and report.when in ("setup", "call"):
        text = "\n\n".join(view.summary() for view in views)
        report.sections.append((f"Captured mail {report.when}", text))
    return report


def _distributing(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("dsession")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """With --smtp-sink-ui or --smtp-sink-keep, say where the sink listens and keeps mail."""
    holder = worker_sink(config)
    if not (holder.settings.ui or holder.settings.keep):
        return []
    if _distributing(config):
        return ["smtp_sink: one sink per xdist worker; addresses in the summary"]
    holder.sink()  # started now, so its URL is known before the tests run
    return [f"smtp_sink: {holder.describe()}"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, hand this worker's addresses to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[OUTPUT_KEY] = worker_sink(session.config).describe()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Collect a finished worker's addresses (xdist controller)."""
    described = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
    if described:
        node.config.stash[REMOTE].append(described)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """With --smtp-sink-ui or --smtp-sink-keep, list each sink's addresses and database."""
    holder = worker_sink(config)
    if not (holder.settings.ui or holder.settings.keep):
        return
    remote: list[str] = config.stash[REMOTE]
    lines = sorted(remote) or [holder.describe()]
    terminalreporter.section("smtp_sink")
    for line in lines:
        terminalreporter.write_line(line)

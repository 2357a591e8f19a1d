"""The fixtures: this worker's sink, each test's view of it, and sinks with other settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mailtrap_lite.config import Address, Config

from .worker import LOCAL, Worker

if TYPE_CHECKING:  # loaded when a fixture runs: importing the plugin must stay cheap
    import ssl

    from mailtrap_lite.testing import Sink, SinkView
    from mailtrap_lite.testing.remote import RemoteInbox

WORKER = pytest.StashKey[Worker]()
VIEWS = pytest.StashKey[list["SinkView"]]()
SETTINGS = frozenset(f.name for f in dataclasses.fields(Config))

SinkFactory = Callable[..., "SinkView"]


def worker_sink(config: pytest.Config) -> Worker:
    """Return this worker's sink holder (made in pytest_configure)."""
    return config.stash[WORKER]


def _remember(request: pytest.FixtureRequest, view: SinkView) -> SinkView:
    """Keep the view on the test item, so a failure report can list its mail."""
    request.node.stash.setdefault(VIEWS, []).append(view)
    return view


@pytest.fixture(scope="session")
def smtp_sink_server(pytestconfig: pytest.Config) -> Sink | RemoteInbox:
    """Return this worker's sink (127.0.0.1, a free port; or external), started on first use."""
    return worker_sink(pytestconfig).sink()


@pytest.fixture
def smtp_sink_factory(request: pytest.FixtureRequest) -> Iterator[SinkFactory]:
    """Start sinks with other Config settings for this test: factory(require_auth=True, ...)."""
    started: list[Sink] = []
    views: list[SinkView] = []
    timeout = worker_sink(request.config).settings.timeout

    def make(**settings: Any) -> SinkView:
        __tracebackhide__ = True
        from mailtrap_lite.testing import Sink, SinkView

        wait = settings.pop("timeout", timeout)
        unknown = sorted(settings.keys() - SETTINGS)
        if unknown:
            raise TypeError(f"unknown sink settings {unknown}; known: {sorted(SETTINGS)}")
        sink = Sink(Config(smtp=Address(LOCAL, 0)).replace(**settings)).start()
        started.append(sink)
        views.append(SinkView(sink, test=request.node.nodeid, timeout=wait))
        return _remember(request, views[-1])

    yield make
    for view in views:
        view.finish()
    for sink in started:
        sink.stop()


@pytest.fixture
def smtp_sink(request: pytest.FixtureRequest) -> Iterator[SinkView]:
    """Return this test's view of the sink: only mail acknowledged during this test."""
    marker = request.node.get_closest_marker("smtp_sink")
    settings = dict(marker.kwargs) if marker else {}
    if settings.keys() - {"timeout"}:
        factory: SinkFactory = request.getfixturevalue("smtp_sink_factory")
        yield factory(**settings)
        return
    from mailtrap_lite.testing import SinkView

    holder = worker_sink(request.config)
    sink = holder.sink()
    view = SinkView(
        sink,
        holder.current_start,
        test=request.node.nodeid,
        timeline=holder.timeline,
        timeout=settings.get("timeout", holder.settings.timeout),
        ui_url=holder.ui_url,
    )
    yield _remember(request, view)
    view.finish()


@dataclasses.dataclass(frozen=True)
class SinkTLS:
    """A TLS-enabled sink for one test: its view, the CA file to trust and a client context."""

    sink: SinkView
    ca_path: Path
    context: ssl.SSLContext
    smtps_port: int


@pytest.fixture
def smtp_sink_tls(smtp_sink_factory: SinkFactory) -> SinkTLS:
    """Return a sink offering STARTTLS and implicit TLS with a self-signed certificate."""
    from mailtrap_lite.testing import Sink

    view = smtp_sink_factory(tls_self_signed=True, smtps=Address(LOCAL, 0))
    sink = view.sink
    assert isinstance(sink, Sink)
    return SinkTLS(view, sink.tls_cert, sink.client_tls_context(), sink.smtps_port)


@pytest.fixture
def smtp_sink_env(smtp_sink: SinkView) -> dict[str, str]:
    """Return SMTP_HOST, SMTP_PORT (and in external mode SMTP_USER, SMTP_PASSWORD)."""
    env = {"SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port)}
    if smtp_sink.credentials is not None:
        env["SMTP_USER"], env["SMTP_PASSWORD"] = smtp_sink.credentials
    return env


@pytest.fixture
def smtp_sink_django(smtp_sink: SinkView) -> Iterator[SinkView]:
    """Point Django's EMAIL_* settings at the sink for this test; return the view."""
    from django.test import override_settings

    user, password = smtp_sink.credentials or ("", "")
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_sink.host,
        EMAIL_PORT=smtp_sink.port,
        EMAIL_HOST_USER=user,
        EMAIL_HOST_PASSWORD=password,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    ):
        yield smtp_sink

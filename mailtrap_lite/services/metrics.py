"""Prometheus metrics of one server, through prometheus_client, on a registry of its own.

Several sinks run in one test process and the library's global registry refuses a second
metric of the same name, so each server has its own CollectorRegistry. prometheus_client
is imported when a Metrics is made (about 70 ms), never when the package or the pytest
plugin is imported. Counters that SMTP feeds (replies, sessions, ingest time) are bumped on
the event loop, so they cost a dictionary look-up and an addition; the rest is read when
/metrics is scraped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from mailtrap_lite.smtp.observer import SMTPObserver, command_label
from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change

if TYPE_CHECKING:
    from mailtrap_lite.services.webhooks import Webhooks

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "mailtrap_lite"
# DATA end to 250: a commit takes well under a millisecond, a loaded disk some hundreds.
INGEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics(SMTPObserver):
    """The counters, gauges and histogram of one server, and its text exposition."""

    def __init__(self, store: Store) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.store = store
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._stored = Counter(f"{PREFIX}_messages_stored", "Messages committed", registry=registry)
        self._deleted = Counter(f"{PREFIX}_messages_deleted", "Messages deleted on request",
                                registry=registry)  # fmt: skip
        self._replies = Counter(f"{PREFIX}_smtp_replies", "SMTP replies sent",
                                ["class", "command"], registry=registry)  # fmt: skip
        self._sessions = Counter(f"{PREFIX}_smtp_sessions", "SMTP sessions ended",
                                 ["end_reason"], registry=registry)  # fmt: skip
        self._ingest = Histogram(f"{PREFIX}_ingest_seconds", "From the end of DATA to the 250",
                                 buckets=INGEST_BUCKETS, registry=registry)  # fmt: skip
        self._releases = Counter(f"{PREFIX}_releases", "Releases to the relay server",
                                 ["result"], registry=registry)  # fmt: skip
        self._reply_children: dict[tuple[str, str], Any] = {}
        self.open_streams: Callable[[], int] = lambda: 0  # set by the web app when it serves
        self.webhooks: Webhooks | None = None
        registry.register(_ScrapeTime(self))
        self._unsubscribe = store.feed.subscribe(self._on_change)

    def close(self) -> None:
        """Stop following the Store."""
        self._unsubscribe()

    def exposition(self) -> bytes:
        """Return the metrics in Prometheus text format."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))

    # -- fed as things happen ---------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if change.kind == "message":
            self._stored.inc(len(change.ids))
        elif change.kind == "deleted":
            self._deleted.inc(len(change.ids))

    def reply(self, command: str | None, text: str) -> None:
        """Count a reply by class (2xx..5xx) and the command it answers."""
        code = text[:1]
        if code not in ("2", "3", "4", "5"):
            return
        key = (f"{code}xx", command_label(command))
        child = self._reply_children.get(key)
        if child is None:
            child = self._reply_children[key] = self._replies.labels(*key)
        child.inc()

    def ingested(self, seconds: float) -> None:
        """Observe one DATA-to-250 time."""
        self._ingest.observe(seconds)

    def session_ended(self, reason: str) -> None:
        """Count an ended SMTP session by how it ended."""
        self._sessions.labels(reason).inc()

    def released(self, ok: bool) -> None:
        """Count a release by its outcome."""
        self._releases.labels("ok" if ok else "failed").inc()


class _ScrapeTime:
    """Values read when /metrics is scraped: counts, pruning, index lag, sizes, webhooks."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        store = self.metrics.store
        stats = store.stats()
        yield GaugeMetricFamily(f"{PREFIX}_messages", "Messages stored now",
                                value=stats["messages"])  # fmt: skip
        pruned = "Messages removed by retention (--max-messages, --max-age)"
        yield CounterMetricFamily(f"{PREFIX}_messages_pruned", pruned, value=stats["pruned"])
        yield GaugeMetricFamily(f"{PREFIX}_index_lag_messages", "Messages not yet searchable",
                                value=stats["unindexed"])  # fmt: skip
        yield GaugeMetricFamily(f"{PREFIX}_database_bytes", "Database file and its WAL",
                                value=_database_bytes(store))  # fmt: skip
        yield GaugeMetricFamily(f"{PREFIX}_open_streams", "Open waits and event streams",
                                value=self.metrics.open_streams())  # fmt: skip
        hooks = self.metrics.webhooks
        if hooks is not None:
            family = CounterMetricFamily(f"{PREFIX}_webhook_deliveries", "Webhook deliveries"
                                         " finished, by result", labels=["result"])  # fmt: skip
            for result, value in (("delivered", hooks.delivered), ("failed", hooks.failed),
                                  ("dropped", hooks.dropped)):  # fmt: skip
                family.add_metric([result], value)
            yield family
            yield CounterMetricFamily(f"{PREFIX}_webhook_attempt_failures", "Failed webhook"
                                      " requests (each retry counts)",
                                      value=hooks.failed_attempts)  # fmt: skip

    def describe(self) -> list[Any]:
        return []  # names vary with the configuration: let the registry read them on scrape


def _database_bytes(store: Store) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(f"{store.path}{suffix}")
        except OSError:
            continue
    return total

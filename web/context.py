"""What every view may reach, through one accessor: the Store, the settings, the SMTP side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from mailtrap_lite.checks import StoredReports
from mailtrap_lite.config import Config
from mailtrap_lite.services.counts import RuntimeCounts
from mailtrap_lite.services.metrics import Metrics
from mailtrap_lite.services.webhooks import Webhooks
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.smtp.relay import Relay
from mailtrap_lite.store import Store

from .limits import Gate

EXTENSION = "mailtrap_lite"
# app.extensions key: callables the web app wants run when serving stops (ending open waits
# and event streams, which would otherwise hold their threads until they time out).
STOP_HOOKS = "mailtrap_lite.stop_hooks"


@dataclass
class AppContext:
    """What every view may reach: the Store, the settings, the SMTP server's address and
    fault rules (None when the app serves a Store without an SMTP server), the
    deliverability reports, and the cap on concurrent searches (one for every listener)."""

    store: Store
    config: Config
    smtp_address: str | None
    faults: FaultRules | None = None
    relay: Relay | None = None  # None: release is off (no --relay-config)
    webhooks: Webhooks | None = None
    metrics: Metrics | None = None  # None: /metrics is off
    ready: Callable[[], bool] | None = None  # None: ready while serving
    reports: StoredReports | None = None  # deliverability reports (build_app sets them)
    searches: Gate | None = None  # searches at once (build_app sets it)
    counts: RuntimeCounts | None = None  # counts since start (build_app sets them)


def context() -> AppContext:
    """Return the running app's context (Store, settings)."""
    found: AppContext = current_app.extensions[EXTENSION]
    return found


def store() -> Store:
    """Return the running app's Store."""
    return context().store


def counts() -> RuntimeCounts:
    """Return the running app's counts since start (messages accepted, rejected, deleted)."""
    found = context().counts
    assert found is not None  # build_app always sets them
    return found


def reports() -> StoredReports:
    """Return the running app's deliverability reports."""
    found = context().reports
    assert found is not None  # build_app always sets them
    return found


def searches() -> Gate:
    """Return the cap on concurrent searches (a search runs inside `searches().admitted()`)."""
    found = context().searches
    assert found is not None  # build_app always sets it
    return found

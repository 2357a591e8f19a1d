"""What every view may reach, through one accessor: the Store, the settings, the SMTP side."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from mailtrap_lite.config import Config
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store

from .limits import Gate

EXTENSION = "mailtrap_lite"
# app.extensions key: callables the web app wants run when serving stops (ending open waits
# and event streams, which would otherwise hold their threads until they time out).
STOP_HOOKS = "mailtrap_lite.stop_hooks"


@dataclass
class AppContext:
    """What every view may reach: the Store, the settings, the SMTP server's address and
    fault rules (None when the app serves a Store without an SMTP server), and the cap on
    concurrent searches."""

    store: Store
    config: Config
    smtp_address: str | None
    faults: FaultRules | None = None
    searches: Gate = field(default_factory=lambda: Gate(0, "searches"))


def context() -> AppContext:
    """Return the running app's context (Store, settings)."""
    found: AppContext = current_app.extensions[EXTENSION]
    return found


def store() -> Store:
    """Return the running app's Store."""
    return context().store


def searches() -> Gate:
    """Return the cap on concurrent searches (a search runs inside `searches().admitted()`)."""
    return context().searches

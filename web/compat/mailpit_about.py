"""Mailpit's routes about the server: /api/v1/info, /api/v1/webui, and the check not served.

Values are truthful: the relay as --relay-config sets it, chaos on (the fault rules), the
spam check on with --spamd; counts since start come from the metrics while they are on.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from flask.blueprints import BlueprintSetupState

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.version import __version__

from ..context import context
from .common import fail

about_routes = Blueprint("mailpit_about", __name__)
STARTED = "mailtrap_lite.mailpit_started"


@about_routes.record_once
def _remember_start(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault(STARTED, time.monotonic())


@about_routes.get("/api/v1/info")
def info() -> Any:
    """GET /api/v1/info: version, database, counts, tags and what this run has seen."""
    ctx = context()
    found = ctx.store
    started: float = current_app.extensions[STARTED]
    return jsonify(
        Version=__version__,
        LatestVersion="",  # this server never asks the internet which version is newest
        Database=str(found.path),
        DatabaseSize=_database_size(found),
        Messages=found.count_messages(),
        Unread=found.count_messages(parse_query("is:unread")),
        Tags={name: total for name, total, _ in found.tags()},
        RuntimeStats=_runtime(ctx.metrics, started),
    )


def _runtime(metrics: Any, started: float) -> dict[str, int]:
    """Counts since start: from the metrics when they are on, else 0 (not counted)."""
    stats = {"Uptime": int(time.monotonic() - started), "MessagesDeleted": 0, "SMTPAccepted": 0,
             "SMTPAcceptedSize": 0, "SMTPRejected": 0, "SMTPIgnored": 0}  # fmt: skip
    if metrics is not None:
        stats.update(metrics.runtime_counts())
    return stats


def _database_size(found: Store) -> int:
    return sum(os.path.getsize(p) for p in (f"{found.path}", f"{found.path}-wal")
               if os.path.exists(p))  # fmt: skip


@about_routes.get("/api/v1/webui")
def webui() -> Any:
    """GET /api/v1/webui: what is on, as configured (relay, chaos, the spam check)."""
    ctx = context()
    relay = ctx.relay.settings if ctx.relay is not None else None
    allowed = relay.allowed_recipients.pattern if relay and relay.allowed_recipients else ""
    blocked = relay.blocked_recipients.pattern if relay and relay.blocked_recipients else ""
    return jsonify(
        Label="",
        MessageRelay={
            "Enabled": relay is not None,
            "SMTPServer": relay.address if relay else "",
            "AllowedRecipients": allowed,
            "RecipientAllowlist": allowed,
            "BlockedRecipients": blocked,
            "ReturnPath": (relay.return_path or "") if relay else "",
            "OverrideFrom": (relay.override_from or "") if relay else "",
            "PreserveMessageIDs": relay.preserve_message_id if relay else False,
        },
        SpamAssassin=ctx.config.spamd is not None,
        ChaosEnabled=ctx.faults is not None,
        DuplicatesIgnored=False,
        HideDeleteAllButton=False,
    )


@about_routes.get("/api/v1/message/<message_id>/<check>")
def checks_off(message_id: str, check: str) -> Response:
    """GET html-check (and any check not served): 404, as Mailpit answers a check that is off.

    Mailpit's HTML check scores the HTML against caniemail.com's per-client support data,
    which the deliverability report does not have; an answer made up without it would mislead.
    """
    fail(404, "not found")

"""Mailpit's routes about the server: /api/v1/info, /api/v1/webui, and the check not served.

Values are truthful: the relay as --relay-config sets it, chaos on (the fault rules), the
spam check on with --spamd; counts since start are the server's own (RuntimeCounts, always
kept, whatever --metrics says).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, jsonify

from mailtrap_lite.services.counts import RuntimeCounts, memory_in_use
from mailtrap_lite.store import Store
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.version import __version__

from ..context import context, counts
from .common import fail

about_routes = Blueprint("mailpit_about", __name__)


@about_routes.get("/api/v1/info")
def info() -> Any:
    """GET /api/v1/info: version, database, counts, tags and what this run has seen."""
    found = context().store
    return jsonify(
        Version=__version__,
        LatestVersion="disabled",  # as Mailpit says with its version check off: none is made
        Database=str(found.path),
        DatabaseSize=_database_size(found),
        Messages=found.count_messages(),
        Unread=found.count_messages(parse_query("is:unread")),
        Tags={name: total for name, total, _ in found.tags()},
        RuntimeStats=_runtime(counts()),
    )


def _runtime(since_start: RuntimeCounts) -> dict[str, int]:
    """Return Mailpit's RuntimeStats: counts since start and the memory in use now.

    SMTPIgnored counts duplicates dropped by Mailpit's --ignore-duplicate-ids; nothing is
    ever dropped here (webui says DuplicatesIgnored: false), so it is truly 0.
    """
    return {
        "Uptime": since_start.uptime(),
        "Memory": memory_in_use(),
        "MessagesDeleted": since_start.deleted_or_pruned(),
        "SMTPAccepted": since_start.accepted_messages,
        "SMTPAcceptedSize": since_start.accepted_bytes,
        "SMTPRejected": since_start.rejected,
        "SMTPIgnored": 0,
    }


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

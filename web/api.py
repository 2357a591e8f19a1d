"""The JSON API under /api/v1 (INTERFACE.md): every response is JSON, errors included."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from mailtrap_lite import __version__

from .app import context

api = Blueprint("api", __name__)


@api.get("/health")
def health() -> Any:
    """GET /health: status, version, message count, pruned count and the SMTP address."""
    ctx = context()
    stats = ctx.store.stats()
    return jsonify(
        status="ok",
        version=__version__,
        messages=stats["messages"],
        pruned=stats["pruned"],
        smtp=ctx.smtp_address,
    )

"""Health and the API's own description: GET /health, GET /openapi.json."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, jsonify

from mailtrap_lite.version import __version__

from ..context import context
from .live import live_slots

routes = Blueprint("meta", __name__)


@routes.get("/health")
def health() -> Any:
    """GET /health: status, version, counts, the SMTP address and how far indexing lags."""
    ctx = context()
    stats = ctx.store.stats()
    oldest = ctx.store.oldest_unindexed()
    return jsonify(
        status="ok",
        version=__version__,
        messages=stats["messages"],
        pruned=stats["pruned"],
        smtp=ctx.smtp_address,
        unindexed=stats["unindexed"],
        index_lag_seconds=_age(oldest),
        live_connections=live_slots().taken(),
    )


def _age(when: str | None) -> float:
    if when is None:
        return 0.0
    then = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    return round(max((dt.datetime.now(dt.UTC) - then).total_seconds(), 0.0), 3)


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 description shipped beside this module."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    document["info"]["version"] = __version__
    return document


@routes.get("/openapi.json")
def openapi() -> Any:
    """GET /openapi.json: the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())

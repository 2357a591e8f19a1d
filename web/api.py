"""The JSON API under /api/v1 (INTERFACE.md): every response is JSON, errors included.

Routes live in api_messages, api_sessions and api_live, all on the one blueprint `api`; this
module holds the blueprint, the JSON error handling, request parameters, health and OpenAPI.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite import __version__
from mailtrap_lite.database import StorageError
from mailtrap_lite.query import Query, QueryError, parse_query

from .app import context

api = Blueprint("api", __name__)

API_PREFIX = "/api/"
MAX_LIMIT = 1000
SLOTS = "mailtrap_lite.live_slots"  # app.extensions key of the open waits and streams


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a JSON error."""
    abort(status, description=message)


def _json_error(error: HTTPException) -> Response:
    response = jsonify(error=error.description or error.name)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep Allow (405), Retry-After, ...
            response.headers[name] = value
    return response


@api.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    """Answer errors under /api/ as JSON {"error": ...}; leave other pages alone."""
    return _json_error(error) if request.path.startswith(API_PREFIX) else error


@api.errorhandler(StorageError)
def storage_error(error: StorageError) -> Response:
    """Answer 503 when the database cannot be read or written."""
    response = jsonify(error=f"storage unavailable: {error}")
    response.status_code = 503
    return response


# -- parameters ----------------------------------------------------------------------------


def int_arg(name: str, default: int, low: int = 0, high: int = MAX_LIMIT) -> int:
    """Read a whole-number parameter within [low, high], or fail with 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        fail(400, f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def id_arg(name: str) -> int | None:
    """Read a message or session id parameter (before=, after=), or fail with 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        fail(400, f"{name} must be a message id (digits), got {text!r}")
    return int(text)


def query_arg() -> Query | None:
    """Parse the query= parameter (the search language), or fail with 400."""
    text = request.args.get("query", "")
    try:
        return parse_query(text) or None
    except QueryError as error:
        fail(400, f"bad query: {error}")


def inbox_arg() -> str | None:
    """Read the inbox= parameter (empty means every inbox)."""
    return request.args.get("inbox") or None


def path_id(text: str, kind: str = "message") -> int:
    """Turn an id from the path into an int; an id that is not digits is unknown (404)."""
    if not text.isdigit():
        fail(404, f"no {kind} with id {text!r}")
    return int(text)


# -- health and the API description ----------------------------------------------------------


@api.get("/health")
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
        live_connections=current_app.extensions[SLOTS].taken(),
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


@api.get("/openapi.json")
def openapi() -> Any:
    """GET /openapi.json: the OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())


# Importing the route modules registers their views on `api`.
from . import api_faults, api_live, api_messages, api_sessions  # noqa: E402, F401, I001

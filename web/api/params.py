"""Request parameters of the JSON API, read and checked the same way by every route."""

from __future__ import annotations

from typing import NoReturn

from flask import abort, request

from mailtrap_lite.store.query import Query, parse_query

MAX_LIMIT = 1000


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a JSON error."""
    abort(status, description=message)


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
    """Parse the query= parameter (the search language); a QueryError is a 400 (api/__init__)."""
    return parse_query(request.args.get("query", "")) or None


def inbox_arg() -> str | None:
    """Read the inbox= parameter (empty means every inbox)."""
    return request.args.get("inbox") or None


def path_id(text: str, kind: str = "message") -> int:
    """Turn an id from the path into an int; an id that is not digits is unknown (404)."""
    if not text.isdigit():
        fail(404, f"no {kind} with id {text!r}")
    return int(text)

"""Request parameters of the JSON API, read and checked the same way by every route.

Every route declares the query parameters it takes (`@accepts(...)`); any other, or one
given twice, is a 400 before the route runs, so a typo such as `?qeury=x` can never widen
what a request does. An empty value counts as absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from flask import abort, current_app, request

from mailtrap_lite.store.query import Query, parse_query

from ..ids import MAX_ID, parse_id

MAX_LIMIT = 1000
ACCEPTED = "accepted_parameters"  # attribute of a view: the query parameters it takes
REPEATABLE = "repeatable_parameters"  # attribute of a view: those it takes several times

View = TypeVar("View", bound=Callable[..., Any])


def accepts(*names: str, repeatable: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Declare the query parameters a route takes; check_parameters refuses any other.

    A parameter is given once, unless it is named in `repeatable` (`tag=a&tag=b`).
    """

    def mark(view: View) -> View:
        setattr(view, ACCEPTED, frozenset(names) | frozenset(repeatable))
        setattr(view, REPEATABLE, frozenset(repeatable))
        return view

    return mark


def check_parameters() -> None:
    """Fail with 400 on a query parameter the route does not take, or one given twice."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return  # no route: the 404 or 405 follows
    accepted: frozenset[str] = getattr(view, ACCEPTED, frozenset())
    for name in request.args:
        if name not in accepted:
            takes = ", ".join(sorted(accepted)) if accepted else "no query parameters"
            fail(400, f"unknown parameter {name!r}; {request.method} {request.path} takes {takes}")
        if len(request.args.getlist(name)) > 1 and name not in getattr(view, REPEATABLE, ()):
            fail(400, f"parameter {name!r} is given more than once")


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a JSON error."""
    abort(status, description=message)


def int_arg(name: str, default: int, low: int = 0, high: int = MAX_LIMIT) -> int:
    """Read a whole-number parameter within [low, high], or fail with 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    value = parse_id(text)
    if value is None or not low <= value <= high:
        fail(400, f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return value


def id_arg(name: str) -> int | None:
    """Read a message or session id parameter (before=, after=), or fail with 400."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    value = parse_id(text)
    if value is None:
        fail(400, f"{name} must be a message id (ASCII digits, at most {MAX_ID}), got {text!r}")
    return value


def query_arg() -> Query | None:
    """Parse the query= parameter (the search language); a QueryError is a 400 (api/__init__)."""
    return parse_query(request.args.get("query", "")) or None


def inbox_arg() -> str | None:
    """Read the inbox= parameter (empty means every inbox)."""
    return request.args.get("inbox") or None


def path_id(text: str, kind: str = "message") -> int:
    """Turn an id from the path into an int; anything but an id in range is unknown (404)."""
    value = parse_id(text)
    if value is None:
        fail(404, f"no {kind} with id {text!r}")
    return value

"""What both compatible APIs share: plain-text errors, paging by offset, slash merging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord

# Messages looked at for one search that the Store cannot answer alone (Mailpit's substring
# address filters, MailHog's kinds): both upstream servers load every match into memory too.
MAX_SCAN = 50_000


def plain(text: str, status: int = 200, mimetype: str = "text/plain") -> Response:
    """Return a plain-text response, as both upstream servers answer their simple routes."""
    return Response(text, status=status, mimetype=mimetype)


def plain_error(error: HTTPException) -> Response:
    """Answer errors as Go's net/http does: `404 page not found`; other codes say why."""
    if error.code == 404:
        response = plain("404 page not found\n", 404)
    else:
        response = plain(f"{error.description or error.name}\n", error.code or 500)
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep WWW-Authenticate, Allow
            response.headers[name] = value
    return response


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a plain-text error."""
    abort(status, description=message)


def whole(name: str, default: int, high: int | None = None) -> int:
    """Read a whole-number parameter (an upper bound applied quietly, as upstream does)."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        fail(400, f"{name} must be a whole number")
    value = int(text)
    return min(value, high) if high is not None else value


def newest(store: Store, count: int, query: Query | None = None) -> list[MessageRecord]:
    """Return the newest `count` messages (matching a query), newest first."""
    return store.list_messages(limit=max(count, 0), query=query).messages


def scan(
    store: Store, keep: Callable[[MessageRecord], bool], query: Query | None = None
) -> list[MessageRecord]:
    """Return every message (matching a query) that `keep` accepts, newest first."""
    return [r for r in newest(store, MAX_SCAN, query) if keep(r)]


def page(records: list[MessageRecord], start: int, limit: int) -> list[MessageRecord]:
    """Return one page by offset."""
    return records[start : start + limit]


def contains_any(needle: str, values: Iterable[str | None]) -> bool:
    """Tell whether any value contains the needle, ignoring case."""
    wanted = needle.lower()
    return any(wanted in value.lower() for value in values if value)


class MergeSlashes:
    """WSGI middleware: `//view/1.html` is `/view/1.html` (cypress-mailpit builds such URLs).

    Werkzeug would answer with a redirect; merging in place serves the request as it is.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            while "//" in path:
                path = path.replace("//", "/")
            environ["PATH_INFO"] = path
        return self.app(environ, start_response)

"""What both compatible APIs share: plain-text errors, paging by offset, searches within the
web's caps, slash merging."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite.store import QueryTimeout, StorageError, Store
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord

from ..context import context, searches
from ..ids import parse_id

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


def storage_error(error: StorageError) -> Response:
    """Answer 503 in plain text when the database cannot be read or a search ran too long."""
    reason = str(error) if isinstance(error, QueryTimeout) else f"storage unavailable: {error}"
    return plain(f"{reason}\n", 503)


def fail(status: int, message: str) -> NoReturn:
    """Stop the request with a plain-text error."""
    abort(status, description=message)


def whole(name: str, default: int, high: int | None = None) -> int:
    """Read a whole-number parameter (an upper bound applied quietly, as upstream does)."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    value = parse_id(text)  # ASCII digits: int() also reads other scripts' digits
    if value is None:
        fail(400, f"{name} must be a whole number")
    return min(value, high) if high is not None else value


def newest(store: Store, count: int, query: Query | None = None) -> list[MessageRecord]:
    """Return the newest `count` messages (matching a query), newest first."""
    return store.list_messages(limit=max(count, 0), query=query).messages


def scan(
    store: Store,
    keep: Callable[[MessageRecord], bool],
    query: Query | None = None,
    seconds: float = 0.0,
) -> list[MessageRecord]:
    """Return every message (matching a query) that `keep` accepts, newest first.

    Past `seconds` of looking (0: no limit) the scan stops with QueryTimeout, as the Store's
    own part of the search does.
    """
    deadline = time.monotonic() + seconds if seconds else None
    kept: list[MessageRecord] = []
    for record in newest(store, MAX_SCAN, query):
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout.after(seconds)
        if keep(record):
            kept.append(record)
    return kept


def search(
    keep: Callable[[MessageRecord], bool], query: Query | None = None
) -> list[MessageRecord]:
    """Scan the request's Store for a search of a compatible API within the web's caps.

    Such searches count against --max-searches with our own (503 with Retry-After past
    it) and are stopped after --query-timeout (503), each answered in plain text.
    """
    with searches().admitted():
        return scan(context().store, keep, query, context().config.query_timeout)


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

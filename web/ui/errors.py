"""Error pages of the UI: 400, 404, 500 and the rest inside the layout, with a way back."""

from __future__ import annotations

import logging

from flask import Response, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from mailtrap_lite.store import StorageError

from ..context import store
from .pages import security_headers

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    500: "Something went wrong",
    503: "Storage unavailable",
}


def error_page(error: HTTPException) -> Response:
    """Answer an error of a page with the layout, what went wrong and links back."""
    status = error.code or 500
    detail = error.description or ""
    cause = error.original_exception if isinstance(error, InternalServerError) else None
    if isinstance(cause, StorageError):
        status, detail = 503, f"The database cannot be read: {cause}"
    elif status >= 500:
        log.error("error serving a page", exc_info=cause)
        detail = "The server could not show this page. The details are in its log."
    body = render_template(
        "ui/error.html",
        status=status,
        title=TITLES.get(status, error.name),
        detail=detail,
        inboxes=_inboxes(),
    )
    response = Response(body, status=status, mimetype="text/html")
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep Allow (405), Retry-After, ...
            response.headers[name] = value
    return security_headers(response)


def _inboxes() -> list[tuple[str, int, int]]:
    """Return the inbox switcher's rows, or none when the Store cannot be read."""
    try:
        return store().inboxes()
    except Exception:  # an error page must render even when the Store is what failed
        return []

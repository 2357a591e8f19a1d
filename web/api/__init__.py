"""The JSON API under /api/v1 (INTERFACE.md): every response is JSON, errors included.

The routes live in one module per concern, each on a blueprint of its own; this module nests
them in the blueprint `api` and answers errors as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import HTTPException

from mailtrap_lite.store import QueryTimeout, StorageError
from mailtrap_lite.store.query import QueryError

from . import checks, faults, live, messages, meta, release, send, sessions, tags, transfer
from .params import check_parameters

API_PREFIX = "/api/"

api = Blueprint("api", __name__)
for module in (meta, messages, checks, sessions, live, faults, tags, send, release, transfer):
    api.register_blueprint(module.routes)
api.before_request(check_parameters)


def json_error(error: HTTPException) -> Response:
    """Answer an HTTP error as JSON {"error": ...} (web/app.py installs it for /api/)."""
    response = jsonify(error=error.description or error.name)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep Allow (405), Retry-After, ...
            response.headers[name] = value
    return response


@api.errorhandler(QueryError)
def query_error(error: QueryError) -> Response:
    """Answer 400 to a query that cannot be parsed or run, with the position that failed."""
    body: dict[str, Any] = {"error": f"bad query: {error}"}
    if error.position is not None:
        body["position"] = error.position
    response = jsonify(body)
    response.status_code = 400
    return response


@api.errorhandler(StorageError)
def storage_error(error: StorageError) -> Response:
    """Answer 503 when the database cannot be read or written, or a search ran too long."""
    message = str(error) if isinstance(error, QueryTimeout) else f"storage unavailable: {error}"
    response = jsonify(error=message)
    response.status_code = 503
    return response

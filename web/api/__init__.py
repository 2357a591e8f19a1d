"""The JSON API under /api/v1 (INTERFACE.md): every response is JSON, errors included.

The routes live in one module per concern, each on a blueprint of its own; this module nests
them in the blueprint `api` and answers errors as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite.store import QueryTimeout, StorageError

from . import faults, live, messages, meta, sessions
from .params import check_parameters

API_PREFIX = "/api/"

api = Blueprint("api", __name__)
for module in (meta, messages, sessions, live, faults):
    api.register_blueprint(module.routes)
api.before_request(check_parameters)


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
    """Answer 503 when the database cannot be read or written, or a search ran too long."""
    message = str(error) if isinstance(error, QueryTimeout) else f"storage unavailable: {error}"
    response = jsonify(error=message)
    response.status_code = 503
    return response

"""The deliverability report of a message: GET /messages/ID/checks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .. import shapes
from ..context import reports
from .params import fail, path_id

routes = Blueprint("checks", __name__)


@routes.get("/messages/<message_id>/checks")
def get_checks(message_id: str) -> Any:
    """GET /messages/ID/checks: {"summary": {"fail", "warn", "pass"}, "checks": [...]}.

    Failing checks come first. Computed on first request and kept (a message never changes);
    with --spamd, spamd is asked once. 404 for an unknown id.
    """
    found = reports().report(path_id(message_id))
    if found is None:
        fail(404, f"no message with id {message_id!r}")
    return jsonify(shapes.report(found))

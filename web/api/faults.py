"""Fault rules of the running SMTP server, read and replaced over HTTP."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mailtrap_lite.smtp.faults import FaultError, FaultRules

from ..context import context
from .params import fail

routes = Blueprint("faults", __name__)


def _rules() -> FaultRules:
    faults = context().faults
    if faults is None:
        fail(404, "this server has no SMTP listener whose faults could be set")
    return faults


@routes.get("/faults")
def get_faults() -> Any:
    """GET /faults: {"rules": [rule]} in the order they are tried, each with "fired"."""
    return jsonify(rules=_rules().to_json())


@routes.put("/faults")
def put_faults() -> Any:
    """PUT /faults with {"rules": [rule]} (or a bare list): replace every rule.

    A rule is the shape GET returns, or {"rule": "TEXT"} in the --fault grammar. Returns the
    new rules; 400 names the bad rule, and then nothing changes.
    """
    body = request.get_json(silent=True)
    listed = body.get("rules") if isinstance(body, dict) else body
    try:
        rules = FaultRules.from_json(listed)
    except FaultError as error:
        fail(400, str(error))
    _rules().replace(rules)
    return jsonify(rules=_rules().to_json())

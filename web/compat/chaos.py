"""Mailpit's chaos triggers and MailHog's Jim, mapped onto our SMTP fault rules.

    {"Sender": {"ErrorCode": 451, "Probability": 50}}  ->  mail:probability=0.5:451 ...

Mailpit's Sender, Recipient and Authentication triggers become fault rules at the mail, rcpt
and auth stages whose reply says "Chaos"; GET reads them back from the rules, PUT replaces
only those, so rules set another way (--fault, /api/v1/faults) stay. MailHog's Jim is in
mailhog.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mailtrap_lite.smtp.faults import FaultError, FaultRule, FaultRules, make_rule

from ..context import context
from .common import fail

chaos_routes = Blueprint("mailpit_chaos", __name__)

TRIGGERS = {"Sender": "mail", "Recipient": "rcpt", "Authentication": "auth"}
MARK = "Chaos"


def _rules() -> FaultRules:
    faults = context().faults
    if faults is None:
        fail(400, "chaos is not enabled")
    return faults


def _is_chaos(rule: FaultRule) -> bool:
    return rule.action == "reply" and MARK in (rule.reply or "")


def _triggers(faults: FaultRules) -> dict[str, Any]:
    found = {name: {"ErrorCode": 451, "Probability": 0} for name in TRIGGERS}
    for rule in faults.rules():
        for name, stage in TRIGGERS.items():
            if _is_chaos(rule) and rule.stage == stage:
                found[name] = {"ErrorCode": int((rule.reply or "0")[:3]),
                               "Probability": round((rule.probability or 1.0) * 100)}  # fmt: skip
    return found


def _rule(name: str, trigger: Any) -> FaultRule | None:
    if not isinstance(trigger, dict):
        fail(400, f"{name} must be an object with ErrorCode and Probability")
    code, probability = trigger.get("ErrorCode", 451), trigger.get("Probability", 0)
    if not isinstance(code, int) or not 400 <= code <= 599:
        fail(400, f"{name}: ErrorCode must be from 400 to 599")
    if not isinstance(probability, int | float) or not 0 <= probability <= 100:
        fail(400, f"{name}: Probability must be from 0 to 100")
    if probability == 0:
        return None
    text = f"{MARK} {name.lower()} error"
    chance = None if probability == 100 else probability / 100
    try:
        return make_rule(TRIGGERS[name], code, text, probability=chance)
    except FaultError as error:
        fail(400, f"{name}: {error}")


@chaos_routes.get("/api/v1/chaos")
def get_chaos() -> Any:
    """GET /api/v1/chaos: {Sender, Recipient, Authentication} as the fault rules hold them."""
    return jsonify(_triggers(_rules()))


@chaos_routes.put("/api/v1/chaos")
def put_chaos() -> Any:
    """PUT /api/v1/chaos: replace the chaos triggers (other fault rules stay); the result."""
    faults = _rules()
    body = request.get_json(silent=True, force=True)
    body = body if isinstance(body, dict) else {}
    new = [_rule(name, body.get(name, {})) for name in TRIGGERS]
    kept = [rule for rule in faults.rules() if not _is_chaos(rule)]
    faults.replace(kept + [rule for rule in new if rule is not None])
    return jsonify(_triggers(faults))

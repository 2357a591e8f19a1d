"""Releasing a message to the real SMTP server of --relay-config, and webhook deliveries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mailtrap_lite.smtp.relay import Relay, RelayRefused

from .. import shapes
from ..context import context, store
from .params import fail, path_id

routes = Blueprint("release", __name__)


def _relay() -> Relay:
    relay = context().relay
    if relay is None:
        fail(404, "release is off: start the server with --relay-config FILE")
    return relay


@routes.post("/messages/<message_id>/release")
def release(message_id: str) -> Any:
    """POST /messages/ID/release with {"to": [addresses]}: send the stored message there.

    Returns the release {released_at, to, ok, reply, session_id} once the server answered
    (ok false when it refused). 400 for recipients outside the relay's allow-list (then
    nothing is sent), 404 for an unknown message or when release is off.
    """
    relay = _relay()
    mid = path_id(message_id)
    body = request.get_json(silent=True)
    to = body.get("to") if isinstance(body, dict) else None
    if not isinstance(to, list) or not to or not all(isinstance(t, str) and t for t in to):
        fail(400, 'expected {"to": ["address", ...]}')
    if store().get_message(mid) is None:
        fail(404, f"no message with id {message_id!r}")
    try:
        outcome = relay.release(mid, [t.strip() for t in to])
    except RelayRefused as error:
        fail(400, str(error))
    except LookupError:
        fail(404, f"no message with id {message_id!r}")
    return jsonify(shapes.release(outcome))


@routes.get("/webhooks/deliveries")
def webhook_deliveries() -> Any:
    """GET /webhooks/deliveries: {"deliveries": [...]} newest first, with the counts."""
    hooks = context().webhooks
    if hooks is None:
        return jsonify(deliveries=[], delivered=0, failed=0, dropped=0, urls=[])
    return jsonify(
        deliveries=[shapes.webhook_delivery(d) for d in hooks.deliveries()],
        delivered=hooks.delivered,
        failed=hooks.failed,
        dropped=hooks.dropped,
        urls=list(hooks.urls),
    )


__all__ = ["routes"]

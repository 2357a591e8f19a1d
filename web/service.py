"""Running as a service: GET /livez, GET /readyz (for health checks) and GET /metrics.

/livez answers while the process serves; /readyz once the store is open and SMTP listens
(`mailtrap-lite health` asks it). Both say nothing but "ok" and need no credentials, so a
container or CI health check works without them. /metrics is Prometheus text, behind
--ui-auth like every other route, and only when metrics are on (--metrics).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask.blueprints import BlueprintSetupState

from .api.live import SLOTS
from .context import EXTENSION, AppContext, context
from .security import OPEN_PATHS

service = Blueprint("service", __name__)

__all__ = ["OPEN_PATHS", "service"]


@service.record_once
def _count_open_streams(state: BlueprintSetupState) -> None:
    ctx: AppContext = state.app.extensions[EXTENSION]
    slots = state.app.extensions.get(SLOTS)
    if ctx.metrics is not None and slots is not None:
        ctx.metrics.open_streams = slots.taken


def _plain(text: str, status: int = 200) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@service.get("/livez")
def livez() -> Response:
    """GET /livez: 200 "ok" while the web server answers."""
    return _plain("ok")


@service.get("/readyz")
def readyz() -> Response:
    """GET /readyz: 200 "ok" once the store is open and SMTP listens, else 503."""
    ready = context().ready
    if ready is not None and not ready():
        return _plain("not ready", 503)
    return _plain("ok")


@service.get("/metrics")
def metrics() -> Response:
    """GET /metrics: Prometheus text format; 404 when metrics are off (--metrics off)."""
    found = context().metrics
    if found is None:
        abort(404)
    response = Response(found.exposition())
    response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response

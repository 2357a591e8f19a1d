"""Session and inbox routes of the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .. import shapes
from ..context import store
from .params import accepts, fail, id_arg, inbox_arg, int_arg, path_id

routes = Blueprint("sessions", __name__)


@routes.get("/sessions")
@accepts("inbox", "limit", "before")
def list_sessions() -> Any:
    """GET /sessions?inbox=&limit=50&before=ID: {"sessions"} newest first, no transcripts."""
    sessions = store().list_sessions(
        inbox=inbox_arg(), limit=int_arg("limit", 50), before=id_arg("before")
    )
    return jsonify(sessions=[shapes.session(s) for s in sessions])


@routes.get("/sessions/<session_id>")
def get_session(session_id: str) -> Any:
    """GET /sessions/ID: one session with its transcript. 404 for an unknown id."""
    session = store().get_session(path_id(session_id, "session"))
    if session is None:
        fail(404, f"no session with id {session_id!r}")
    return jsonify(shapes.session(session))


@routes.get("/inboxes")
def list_inboxes() -> Any:
    """GET /inboxes: {"inboxes": [{"name", "total", "unread"}]} by name."""
    rows = store().inboxes()
    return jsonify(
        inboxes=[{"name": name, "total": total, "unread": unread} for name, total, unread in rows]
    )

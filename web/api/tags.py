"""Tag routes of the JSON API: list with counts, rename, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mailtrap_lite.store.tagging import TagError

from ..context import store
from .params import fail

routes = Blueprint("tags", __name__)


@routes.get("/tags")
def list_tags() -> Any:
    """GET /tags: {"tags": [{"name", "total", "unread"}]} for each tag in use, by name."""
    rows = store().tags()
    return jsonify(tags=[{"name": n, "total": t, "unread": u} for n, t, u in rows])


@routes.put("/tags/<path:name>")
def rename_tag(name: str) -> Any:
    """PUT /tags/NAME with {"name": "new"}: rename it on every message (merging into an
    existing tag of that name); {"name": new}. 400 bad name, 404 unknown tag.
    """
    body = request.get_json(silent=True)
    new = body.get("name") if isinstance(body, dict) else None
    if not isinstance(new, str):
        fail(400, 'expected {"name": "new name"}')
    try:
        found = store().rename_tag(name, new)
    except TagError as error:
        fail(400, f"name: {error}")
    if not found:
        fail(404, f"no tag {name!r}")
    return jsonify(name=new.strip())


@routes.delete("/tags/<path:name>")
def delete_tag(name: str) -> Any:
    """DELETE /tags/NAME: remove the tag from every message; {"untagged": n}. 404 unknown."""
    count = store().delete_tag(name)
    if count is None:
        fail(404, f"no tag {name!r}")
    return jsonify(untagged=count)

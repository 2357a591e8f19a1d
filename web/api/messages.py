"""Message routes of the JSON API: list, search, view, raw, attachments, mark read, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from mailtrap_lite.message import Message
from mailtrap_lite.store.records import MessageRecord
from mailtrap_lite.store.tagging import TagError

from .. import shapes
from ..context import store
from ..downloads import download
from .params import fail, id_arg, inbox_arg, int_arg, path_id, query_arg

routes = Blueprint("messages", __name__)

PATCH_FIELDS = {"read": "true or false", "tags": "a list of tag names"}


@routes.get("/messages")
def list_messages() -> Any:
    """GET /messages?query=&inbox=&limit=50&before=ID&after=ID: {"total", "messages"}.

    Newest first; `total` counts every match (before= aside). 400 on a bad query or parameter.
    """
    page = store().list_messages(
        inbox=inbox_arg(),
        limit=int_arg("limit", 50),
        before=id_arg("before"),
        after=id_arg("after"),
        query=query_arg(),
    )
    return jsonify(total=page.total, messages=[shapes.summary(m) for m in page.messages])


@routes.delete("/messages")
def delete_messages() -> Any:
    """DELETE /messages?query=&inbox=: delete the matches (all without both); {"deleted": n}."""
    deleted = store().delete_matching(query_arg(), inbox_arg())
    return jsonify(deleted=deleted)


def read(message_id: str) -> tuple[MessageRecord, Message]:
    """Return a message's record and read model, or fail with 404."""
    mid = path_id(message_id)
    record = store().get_message(mid)
    message = store().read_message(mid) if record is not None else None
    if record is None or message is None:
        fail(404, f"no message with id {message_id!r}")
    return record, message


@routes.get("/messages/<message_id>")
def get_message(message_id: str) -> Any:
    """GET /messages/ID: the full message with its releases; not marked read. 404."""
    record, message = read(message_id)
    return jsonify(shapes.full_message(record, message, store().releases(record.id)))


@routes.get("/messages/<message_id>/raw")
def get_raw(message_id: str) -> Response:
    """GET /messages/ID/raw: the exact bytes received, as a message/rfc822 download. 404."""
    raw = store().raw(path_id(message_id))
    if raw is None:
        fail(404, f"no message with id {message_id!r}")
    return download(raw, f"message-{message_id}.eml", "message.eml", "message/rfc822")


@routes.get("/messages/<message_id>/attachments/<index>")
def get_attachment(message_id: str, index: str) -> Response:
    """GET /messages/ID/attachments/N: attachment N's decoded bytes (N from 0), a download.

    404 for an unknown message or attachment.
    """
    _, message = read(message_id)
    attachment = message.attachment(int(index)) if index.isascii() and index.isdigit() else None
    if attachment is None:
        fail(404, f"message {message_id} has no attachment {index!r}")
    fallback = f"attachment-{index}"
    return download(attachment.data, attachment.filename, fallback, attachment.content_type)


@routes.patch("/messages/<message_id>")
def patch_message(message_id: str) -> Any:
    """PATCH /messages/ID with {"read": bool} and/or {"tags": [names]}: the summary.

    `tags` replaces the message's tags. 400 names a bad field or tag; 404 unknown id.
    """
    mid = path_id(message_id)
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict) or not changes:
        fail(400, 'expected a JSON object such as {"read": true} or {"tags": ["a"]}')
    for name, value in changes.items():
        if name not in PATCH_FIELDS:
            fail(400, f"cannot change {name!r}; fields: {', '.join(PATCH_FIELDS)}")
        if not _valid(name, value):
            fail(400, f"{name} must be {PATCH_FIELDS[name]}, got {value!r}")
    found = True
    if "tags" in changes:
        try:
            found = store().set_tags(mid, changes["tags"])
        except TagError as error:
            fail(400, f"tags: {error}")
    if found and "read" in changes:
        found = store().set_read(mid, changes["read"])
    record = store().get_message(mid) if found else None
    if record is None:  # unknown, or deleted meanwhile
        fail(404, f"no message with id {message_id!r}")
    return jsonify(shapes.summary(record))


def _valid(name: str, value: Any) -> bool:
    if name == "read":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@routes.delete("/messages/<message_id>")
def delete_message(message_id: str) -> Any:
    """DELETE /messages/ID: delete one; {"deleted": 1}. 404 for an unknown id."""
    if not store().delete_messages([path_id(message_id)]):
        fail(404, f"no message with id {message_id!r}")
    return jsonify(deleted=1)

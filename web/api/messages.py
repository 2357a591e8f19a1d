"""Message routes of the JSON API: list, search, view, raw, attachments, mark read, delete."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mailtrap_lite.message import Message
from mailtrap_lite.store.records import MessageRecord
from mailtrap_lite.store.tagging import TagError

from .. import shapes
from ..context import searches, store
from ..downloads import download
from ..ids import parse_id
from .params import accepts, fail, id_arg, inbox_arg, int_arg, path_id, query_arg

routes = Blueprint("messages", __name__)

PATCH_FIELDS = {"read": "true or false", "tags": "a list of tag names"}


@routes.get("/messages")
@accepts("query", "inbox", "limit", "before", "after")
def list_messages() -> Any:
    """GET /messages?query=&inbox=&limit=50&before=ID&after=ID: {"total", "messages"}.

    Newest first; `total` counts every match (before= aside). 400 on a bad query or parameter.
    """
    inbox, limit, before, after, query = (inbox_arg(), int_arg("limit", 50), id_arg("before"),
                                          id_arg("after"), query_arg())  # fmt: skip
    with searches().admitted() if query is not None else nullcontext():
        page = store().list_messages(inbox, limit, before, after, query)
    return jsonify(total=page.total, messages=[shapes.summary(m) for m in page.messages])


@routes.delete("/messages")
@accepts("query", "inbox", "all")
def delete_messages() -> Any:
    """DELETE /messages?query=&inbox=&all=true: delete the matches; {"deleted": n}.

    Deleting everything takes all=true. 400 (and nothing deleted) with none of the three,
    with a request body (a client that meant to name ids), or on a bad query.
    """
    if request.get_data(cache=True):
        fail(400, "DELETE /api/v1/messages takes no request body; delete messages by id with"
             " DELETE /api/v1/messages/ID, or those that match with query= or inbox=")  # fmt: skip
    query, inbox, everything = query_arg(), inbox_arg(), all_arg()
    if query is None and inbox is None and not everything:
        fail(400, "to delete every message add all=true; to delete some, give query= or inbox=")
    with searches().admitted() if query is not None else nullcontext():
        return jsonify(deleted=store().delete_matching(query, inbox))


def all_arg() -> bool:
    """Read all=true (or all=false) of a deletion."""
    text = request.args.get("all", "").strip().lower()
    if text not in ("", "true", "false"):
        fail(400, f"all must be true or false, got {text!r}")
    return text == "true"


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
    number = parse_id(index)
    attachment = message.attachment(number) if number is not None else None
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

"""POST /api/v1/send: build a message from JSON and store it as if it came over SMTP."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mailtrap_lite.mime.compose import SendError, compose, read_send_request
from mailtrap_lite.smtp.submit import TooLarge, submit
from mailtrap_lite.store.tagging import TagError, check_tag

from ..context import context
from .params import fail

routes = Blueprint("send", __name__)

# Base64 makes attachments a third larger, and JSON adds a little: the body may be this
# much larger than the message it builds (whose own limit is --max-message-size).
BODY_ALLOWANCE = 4 / 3
BODY_EXTRA = 64 * 1024


@routes.post("/send")
def send() -> Any:
    """POST /send with {from, to[], cc[], bcc[], reply_to[], subject, text, html, headers{},
    attachments[{filename, content_type, content (base64), content_id?}], inbox?, tags[]?}.

    Stores the message as an `api` session; {"id"}. 400 names the bad field; 413 past
    --max-message-size.
    """
    ctx = context()
    limit = ctx.config.max_message_size
    if limit:
        request.max_content_length = int(limit * BODY_ALLOWANCE) + BODY_EXTRA
    data = request.get_json(silent=True)
    try:
        message = read_send_request(data)
        inbox, tags = _inbox(data), _tags(data)
    except SendError as error:
        fail(400, str(error))
    raw = compose(message, ctx.config.hostname)
    try:
        message_id = submit(ctx.store, ctx.config, raw, message.from_[1], message.recipients,
                            inbox=inbox, tags=tags, peer=_peer(), observer=ctx.counts)  # fmt: skip
    except TooLarge as error:
        fail(413, str(error))
    return jsonify(id=str(message_id))


def _inbox(data: Any) -> str:
    inbox = data.get("inbox", "default")
    if not isinstance(inbox, str) or not inbox.strip() or len(inbox) > 256:
        raise SendError("inbox", "expected an inbox name")
    return inbox.strip()


def _tags(data: Any) -> list[str]:
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise SendError("tags", "expected a list of tag names")
    try:
        return [check_tag(t) for t in tags]
    except TagError as error:
        raise SendError("tags", str(error)) from None


def _peer() -> str:
    address = request.remote_addr or "unknown"
    return f"{address} (HTTP)"


__all__ = ["routes"]

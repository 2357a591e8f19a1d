"""Mailpit's API (v1) and its /view pages, served from the Store for Mailpit's clients.

Mounted at / on --mailpit-http and under /compat/mailpit/ on the main port. Errors are
Mailpit's: plain text, `404 page not found`. As in Mailpit, `GET /api/v1/message/ID` marks
the message read (unless the browser says the request is cross-site), and `DELETE
/api/v1/messages` without IDs deletes everything: both only here, never on /api/v1.
Not served: the websocket /api/events (waitress cannot hand a socket to a websocket
handler), thumbnails, and html-check (404: it scores HTML against per-client support data
that the deliverability report does not have). link-check answers from the report's static
link checks, never requesting a link; sa-check from its SpamAssassin verdict when --spamd is
given (404 without it).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from mailtrap_lite.checks.links import each_link_checked
from mailtrap_lite.message import Message
from mailtrap_lite.mime.body import BODY_HEADER_BYTES
from mailtrap_lite.mime.compose import SendError, compose, read_send_request
from mailtrap_lite.mime.headers import headers_of
from mailtrap_lite.smtp.relay import RelayRefused
from mailtrap_lite.smtp.submit import TooLarge, submit
from mailtrap_lite.store import StorageError
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.records import MessageRecord
from mailtrap_lite.store.tagging import TagError

from ..context import context, reports, store
from ..downloads import download
from ..ids import parse_id
from . import mailpit_shapes as shapes
from .chaos import chaos_routes
from .common import MAX_SCAN, fail, newest, page, plain, plain_error, search, storage_error, whole
from .mailpit_about import about_routes
from .mailpit_search import MailpitSearch, SearchError, parse_search

routes = Blueprint("mailpit", __name__)
routes.register_blueprint(chaos_routes)
routes.register_blueprint(about_routes)
routes.register_error_handler(StorageError, storage_error)
error_page = plain_error
OK = "ok"
_CID = re.compile(r"""\bcid:([^\s"'()<>]+)""", re.IGNORECASE)
# Email HTML is hostile (DESIGN.md): the /view page runs no script and loads only our parts.
VIEW_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src data:;"
    " base-uri 'none'; form-action 'none'; sandbox allow-popups"
)


@routes.errorhandler(SearchError)
def _bad_search(error: SearchError) -> Response:
    return plain(f"{error}\n", 400)


# -- lists and searches ----------------------------------------------------------------------


def _counts(matched: list[MessageRecord] | None = None) -> dict[str, int]:
    total = store().count_messages()
    unread = store().count_messages(parse_query("is:unread"))
    if matched is None:
        return {"total": total, "unread": unread, "matched": total, "matched_unread": unread}
    matched_unread = sum(1 for r in matched if not r.read)
    return {"total": total, "unread": unread, "matched": len(matched),
            "matched_unread": matched_unread}  # fmt: skip


def _tag_names() -> list[str]:
    return [name for name, _, _ in store().tags()]


@routes.get("/api/v1/messages")
def list_messages() -> Any:
    """GET /api/v1/messages?start=0&limit=50: MessagesSummary, newest first."""
    start, limit = whole("start", 0), whole("limit", 50)
    records = page(newest(store(), min(start + limit, MAX_SCAN)), start, limit)
    return jsonify(shapes.messages_summary(records, start, _counts(), _tag_names()))


def _search() -> MailpitSearch:
    text = request.args.get("query", "").strip()
    if not text:
        fail(400, "no search query")
    return parse_search(text, request.args.get("tz"))


def _matches(found: MailpitSearch) -> list[MessageRecord]:
    return search(found.keep, found.query)


@routes.get("/api/v1/search")
def search_messages() -> Any:
    """GET /api/v1/search?query=&start=&limit=&tz=: MessagesSummary of the matches."""
    start, limit = whole("start", 0), whole("limit", 50)
    matched = _matches(_search())
    counts = _counts(matched)
    return jsonify(shapes.messages_summary(page(matched, start, limit), start, counts,
                                           _tag_names()))  # fmt: skip


@routes.delete("/api/v1/search")
def delete_search() -> Response:
    """DELETE /api/v1/search?query=: delete the matches; "ok"."""
    store().delete_messages([r.id for r in _matches(_search())])
    return plain(OK)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


def _ids(data: dict[str, Any]) -> list[int]:
    ids = data.get("IDs") or []
    if not isinstance(ids, list):
        fail(400, "IDs must be a list")
    parsed = (parse_id(str(i)) for i in ids if isinstance(i, str | int))
    return [i for i in parsed if i is not None]


@routes.put("/api/v1/messages")
def set_read() -> Response:
    """PUT /api/v1/messages {IDs?, Read, Search?}: mark those (the matches; all) read."""
    data = _body()
    read = bool(data.get("Read", False))
    ids = _ids(data)
    if not ids:
        text = data.get("Search")
        if isinstance(text, str) and text.strip():
            matched = _matches(parse_search(text, request.args.get("tz")))
        else:
            matched = newest(store(), MAX_SCAN)
        ids = [r.id for r in matched if r.read != read]
    for message_id in ids:
        store().set_read(message_id, read)
    return plain(OK)


@routes.delete("/api/v1/messages")
def delete_messages() -> Response:
    """DELETE /api/v1/messages {IDs}: delete those; with no IDs, delete every message.

    That is Mailpit's rule, served on this API only: our own DELETE /api/v1/messages needs a
    query, an inbox or all=true.
    """
    ids = _ids(_body())
    if ids:
        store().delete_messages(ids)
    else:
        store().clear()
    return plain(OK)


# -- one message -----------------------------------------------------------------------------


def _record(message_id: str) -> MessageRecord:
    """Return the message an id names: digits, or `latest` (honouring ?query=)."""
    if message_id == "latest":
        text = request.args.get("query", "").strip()
        found = _matches(parse_search(text, request.args.get("tz"))) if text else newest(store(), 1)
        if not found:
            fail(404, "not found")
        return found[0]
    number = parse_id(message_id)
    record = store().get_message(number) if number is not None else None
    if record is None:
        fail(404, "not found")
    return record


def _read(message_id: str) -> tuple[MessageRecord, Message]:
    record = _record(message_id)
    parsed = store().read_message(record.id)
    if parsed is None:
        fail(404, "not found")
    return record, parsed


@routes.get("/api/v1/message/<message_id>")
def get_message(message_id: str) -> Any:
    """GET /api/v1/message/ID|latest: Mailpit's Message; marks it read, as Mailpit does.

    A browser's cross-site request (Sec-Fetch-Site: cross-site) does not change it.
    """
    record, parsed = _read(message_id)
    if not record.read and request.headers.get("Sec-Fetch-Site") != "cross-site":
        store().set_read(record.id, True)
        record.read = True
    return jsonify(shapes.message(record, parsed))


@routes.get("/api/v1/message/<message_id>/raw")
def get_raw(message_id: str) -> Response:
    """GET /api/v1/message/ID/raw: the bytes received, as text/plain."""
    raw = store().raw(_record(message_id).id) or b""
    response = Response(raw, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@routes.get("/api/v1/message/<message_id>/headers")
def get_headers(message_id: str) -> Any:
    """GET /api/v1/message/ID/headers: {Canonical-Key: [values as received]}."""
    raw = store().raw(_record(message_id).id) or b""
    return jsonify(shapes.headers(headers_of(raw, BODY_HEADER_BYTES)))


@routes.get("/api/v1/message/<message_id>/sa-check")
def sa_check(message_id: str) -> Any:
    """GET /api/v1/message/ID/sa-check: SpamAssassin's verdict, from the deliverability report.

    spamd is asked once per message (the report keeps the answer); 404 without --spamd, as
    Mailpit answers while its spam check is off.
    """
    if context().config.spamd is None:
        fail(404, "not found")
    outcome = reports().spam(_record(message_id).id)
    if outcome is None:
        fail(404, "not found")
    return jsonify(shapes.spam_check(outcome))


@routes.get("/api/v1/message/<message_id>/link-check")
def link_check(message_id: str) -> Any:
    """GET /api/v1/message/ID/link-check[?follow=]: each web link with the deliverability
    report's static link checks, in Mailpit's shape. No link is requested, so `follow`
    changes nothing and no link has an HTTP status (StatusCode 0); 404 for an unknown id.
    """
    _, parsed = _read(message_id)
    return jsonify(shapes.link_check(each_link_checked(parsed.links)))


@routes.get("/api/v1/message/<message_id>/part/<part_id>")
def get_part(message_id: str, part_id: str) -> Response:
    """GET /api/v1/message/ID/part/PARTID: the part's decoded bytes, as a download."""
    record, parsed = _read(message_id)
    leaf = parsed.leaf(part_id)
    if leaf is None:
        fail(404, "not found")
    fallback = f"message-{record.id}-part-{part_id}"
    return download(leaf.data, leaf.part.filename, fallback, leaf.part.content_type)


@routes.post("/api/v1/message/<message_id>/release")
def release(message_id: str) -> Response:
    """POST /api/v1/message/ID/release {To: [...]}: release through --relay-config; "ok"."""
    relay = context().relay
    if relay is None:
        fail(400, "message relay is not enabled (start with --relay-config)")
    record = _record(message_id)
    to = _body().get("To")
    if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
        fail(400, "To must be a list of addresses")
    try:
        outcome = relay.release(record.id, to)
    except RelayRefused as error:
        fail(400, str(error))
    if not outcome.ok:
        fail(500, outcome.reply)
    return plain(OK)


# -- send and tags -----------------------------------------------------------------------------


def _our_address(value: Any) -> Any:
    if isinstance(value, dict):
        return {"name": value.get("Name") or "", "address": value.get("Email")}
    return value


def _our_request(data: dict[str, Any]) -> dict[str, Any]:
    """Translate Mailpit's send request into ours (field names, attachment keys)."""
    attachments = [
        {"filename": a.get("Filename"), "content": a.get("Content", ""),
         "content_type": a.get("ContentType"), "content_id": a.get("ContentID") or None}
        for a in data.get("Attachments") or [] if isinstance(a, dict)
    ]  # fmt: skip
    ours: dict[str, Any] = {
        "from": _our_address(data.get("From")),
        "subject": data.get("Subject"),
        "text": data.get("Text"),
        "html": data.get("HTML"),
        "headers": data.get("Headers") or None,
        "attachments": attachments,
    }
    for theirs, mine in (("To", "to"), ("Cc", "cc"), ("Bcc", "bcc"), ("ReplyTo", "reply_to")):
        value = data.get(theirs)
        ours[mine] = [_our_address(v) for v in value] if isinstance(value, list) else value
    return ours


@routes.post("/api/v1/send")
def send() -> Any:
    """POST /api/v1/send (Mailpit's fields): store it as the send API does; {ID}."""
    ctx = context()
    data = _body()
    try:
        message = read_send_request(_our_request(data))
        tags = [str(t) for t in data.get("Tags") or []]
        raw = compose(message, ctx.config.hostname)
        message_id = submit(ctx.store, ctx.config, raw, message.from_[1], message.recipients,
                            tags=tags, peer=f"{request.remote_addr} (HTTP)",
                            observer=ctx.counts)  # fmt: skip
    except (SendError, TagError) as error:
        fail(400, str(error))
    except TooLarge as error:
        fail(400, str(error))
    return jsonify(ID=str(message_id))


@routes.get("/api/v1/tags")
def get_tags() -> Any:
    """GET /api/v1/tags: the tag names in use."""
    return jsonify(_tag_names())


@routes.put("/api/v1/tags")
def set_tags() -> Response:
    """PUT /api/v1/tags {IDs, Tags}: set (replace) the tags of those messages; "ok"."""
    data = _body()
    tags = data.get("Tags") or []
    if not isinstance(tags, list):
        fail(400, "Tags must be a list")
    try:
        for message_id in _ids(data):
            store().set_tags(message_id, [str(t) for t in tags])
    except TagError as error:
        fail(400, str(error))
    return plain(OK)


@routes.put("/api/v1/tags/<path:tag>")
def rename_tag(tag: str) -> Response:
    """PUT /api/v1/tags/TAG {Name}: rename it; "ok"."""
    name = _body().get("Name")
    if not isinstance(name, str):
        fail(400, "Name is required")
    try:
        found = store().rename_tag(tag, name)
    except TagError as error:
        fail(400, str(error))
    if not found:
        fail(404, "not found")
    return plain(OK)


@routes.delete("/api/v1/tags/<path:tag>")
def delete_tag(tag: str) -> Response:
    """DELETE /api/v1/tags/TAG: remove it from every message; "ok"."""
    if store().delete_tag(tag) is None:
        fail(404, "not found")
    return plain(OK)


# -- /view -------------------------------------------------------------------------------------


@routes.get("/view/<message_id>.html")
def view_html(message_id: str) -> Response:
    """GET /view/ID.html: the HTML body alone, `cid:` pointed at the parts, no script."""
    record, parsed = _read(message_id)
    if parsed.html is None:
        fail(404, "not found")
    by_cid = {a.content_id: a.address for a in parsed.attachments if a.content_id}

    def part_url(match: re.Match[str]) -> str:
        address = by_cid.get(match.group(1))
        if address is None:
            return match.group(0)
        return url_for(".get_part", message_id=str(record.id), part_id=address)

    response = Response(_CID.sub(part_url, parsed.html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = VIEW_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@routes.get("/view/<message_id>.txt")
def view_text(message_id: str) -> Response:
    """GET /view/ID.txt: the text body alone."""
    _, parsed = _read(message_id)
    return plain(parsed.text or "")

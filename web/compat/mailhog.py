"""MailHog's API v1 and v2, served from the Store for MailHog's clients.

Mounted at / on --mailhog-http and under /compat/mailhog/ on the main port. Search kinds
are MailHog's: `from` (envelope sender or From), `to` (envelope recipients or To) and
`containing` (the body or any header), case-insensitive substrings. /api/v1/events is
Server-Sent Events as MailHog sends them; /api/v2/websocket is not served (waitress cannot
hand a socket to a websocket handler). Jim, MailHog's chaos monkey, becomes fault rules;
its link-speed settings have no equivalent and are kept but not applied.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from mailtrap_lite.smtp.faults import FaultRule, make_rule
from mailtrap_lite.smtp.relay import RelayRefused
from mailtrap_lite.store import StorageError, Store
from mailtrap_lite.store.records import MessageRecord

from ..api.live import SLOTS, Slots, live_slots
from ..context import EXTENSION, STOP_HOOKS, context, store
from ..downloads import download
from ..ids import parse_id
from . import mailhog_shapes as shapes
from .common import (
    MAX_SCAN,
    contains_any,
    fail,
    newest,
    page,
    plain,
    plain_error,
    search,
    storage_error,
    whole,
)

routes = Blueprint("mailhog", __name__)
routes.register_error_handler(StorageError, storage_error)
error_page = plain_error

V2_LIMIT, V2_MAX = 50, 250
V1_MAX = 1000
KINDS = ("from", "to", "containing")
KEEPALIVE = 60.0  # seconds between MailHog's keepalive events
JIM = "mailtrap_lite.mailhog_jim"
JIM_DEFAULTS = {"DisconnectChance": 0.005, "AcceptChance": 0.99, "LinkSpeedAffect": 0.1,
                "LinkSpeedMin": 1024.0, "LinkSpeedMax": 10240.0, "RejectSenderChance": 0.05,
                "RejectRecipientChance": 0.05, "RejectAuthChance": 0.05}  # fmt: skip


@routes.record_once
def _setup(state: BlueprintSetupState) -> None:
    extensions = state.app.extensions
    extensions.setdefault(JIM, {"config": None, "rules": [], "lock": threading.Lock()})
    if SLOTS not in extensions:  # the listener of its own: event streams are capped too
        ctx = extensions[EXTENSION]
        slots = extensions[SLOTS] = Slots(ctx.config.http_max_waits, ctx.store.feed)
        extensions.setdefault(STOP_HOOKS, []).append(slots.close)


def _shape(record: MessageRecord, found: Store | None = None) -> dict[str, Any]:
    """Return MailHog's shape of a message (the Store given, or the request's)."""
    found = found or store()
    session = found.get_session(record.session_id) if record.session_id else None
    raw = found.raw(record.id) or b""
    return shapes.message(record, raw, session.helo if session is not None else None)


# -- API v2 ----------------------------------------------------------------------------------


@routes.get("/api/v2/messages")
def v2_messages() -> Any:
    """GET /api/v2/messages?start=0&limit=50 (at most 250): {total, count, start, items}."""
    start, limit = whole("start", 0), whole("limit", V2_LIMIT, V2_MAX)
    records = page(newest(store(), min(start + limit, MAX_SCAN)), start, limit)
    items = [_shape(r) for r in records]
    return jsonify(shapes.messages_page(items, store().count_messages(), start))


def _matches(kind: str, query: str) -> list[MessageRecord]:
    def keep(record: MessageRecord) -> bool:
        if kind == "from":
            sender = [record.mail_from, record.from_.address if record.from_ else None]
            return contains_any(query, sender + [_header(record, "from")])
        if kind == "to":
            return contains_any(query, [*record.rcpt_to, _header(record, "to")])
        raw = (store().raw(record.id) or b"").decode("utf-8", "replace")
        return query.lower() in raw.lower()  # the body or any header value

    return search(keep)


def _header(record: MessageRecord, name: str) -> str:
    boxes = ([record.from_] if record.from_ else []) if name == "from" else record.to
    return ", ".join(f"{b.name or ''} <{b.address}>" for b in boxes)


@routes.get("/api/v2/search")
def v2_search() -> Any:
    """GET /api/v2/search?kind=from|to|containing&query=&start=&limit=: a v2 page.

    400 for another kind or an empty query, as MailHog answers.
    """
    kind, query = request.args.get("kind", ""), request.args.get("query", "")
    if kind not in KINDS:
        fail(400, "kind must be from, to or containing")
    if not query:
        fail(400, "query is required")
    start, limit = whole("start", 0), whole("limit", V2_LIMIT, V2_MAX)
    matched = _matches(kind, query)
    items = [_shape(r) for r in page(matched, start, limit)]
    return jsonify(shapes.messages_page(items, len(matched), start))


# -- API v1 ----------------------------------------------------------------------------------


@routes.get("/api/v1/messages")
def v1_messages() -> Any:
    """GET /api/v1/messages: a list of up to 1000 messages, newest first."""
    return jsonify([_shape(r) for r in newest(store(), V1_MAX)])


@routes.delete("/api/v1/messages")
def v1_delete_all() -> Response:
    """DELETE /api/v1/messages: delete every message; 200, empty body."""
    store().clear()
    return plain("")


def _record(message_id: str) -> MessageRecord:
    number = parse_id(message_id)
    record = store().get_message(number) if number is not None else None
    if record is None:
        fail(404, "not found")
    return record


@routes.get("/api/v1/messages/<message_id>")
def v1_message(message_id: str) -> Any:
    """GET /api/v1/messages/ID: the message, MailHog's shape."""
    return jsonify(_shape(_record(message_id)))


@routes.delete("/api/v1/messages/<message_id>")
def v1_delete(message_id: str) -> Response:
    """DELETE /api/v1/messages/ID: delete it; 200, empty body."""
    store().delete_messages([_record(message_id).id])
    return plain("")


@routes.get("/api/v1/messages/<message_id>/download")
def v1_download(message_id: str) -> Response:
    """GET /api/v1/messages/ID/download: the raw message as ID.eml."""
    record = _record(message_id)
    raw = store().raw(record.id) or b""
    return download(raw, f"{record.id}.eml", "message.eml", "message/rfc822")


@routes.get("/api/v1/messages/<message_id>/mime/part/<int:number>/download")
def v1_part(message_id: str, number: int) -> Response:
    """GET /api/v1/messages/ID/mime/part/N/download: part N (base64 decoded, as MailHog)."""
    record = _record(message_id)
    parts = (_shape(record)["MIME"] or {}).get("Parts", [])
    if number >= len(parts):
        fail(404, "not found")
    part = parts[number]
    encoding = next((v[0] for k, v in part["Headers"].items()
                     if k.lower() == "content-transfer-encoding"), "")  # fmt: skip
    data = part["Body"].encode("utf-8", "replace")
    if encoding.lower() == "base64":
        try:
            data = base64.b64decode(data)
        except (binascii.Error, ValueError):
            pass  # MailHog sends the body as it is when it cannot decode it
    content_type = next((v[0] for k, v in part["Headers"].items()
                         if k.lower() == "content-type"), "")  # fmt: skip
    name = f"{record.id}-part-{number}"
    return download(data, name, name, content_type.split(";")[0].strip().lower())


@routes.post("/api/v1/messages/<message_id>/release")
def v1_release(message_id: str) -> Response:
    """POST /api/v1/messages/ID/release {Email, ...}: release to Email via --relay-config.

    MailHog sends to whatever Host and Port the request names; this server releases only
    to the server of --relay-config, so Host and Port are not used.
    """
    relay = context().relay
    if relay is None:
        fail(400, "release needs --relay-config; Host and Port of the request are not used")
    body = request.get_json(silent=True, force=True)
    email = body.get("Email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email:
        fail(400, "Email is required")
    try:
        outcome = relay.release(_record(message_id).id, [email])
    except RelayRefused as error:
        fail(400, str(error))
    if not outcome.ok:
        fail(500, outcome.reply)
    return plain("")


# -- events ----------------------------------------------------------------------------------


@routes.get("/api/v1/events")
def v1_events() -> Response:
    """GET /api/v1/events: Server-Sent Events, each new message as MailHog sends it."""
    ctx = context()
    slots = live_slots()
    slots.take()  # 503 past the cap of open waits and streams
    stream = _stream(ctx.store, ctx.config.events_seconds, slots.closing)
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.call_on_close(slots.give_back)
    return response


def _stream(found: Store, seconds: float, closing: threading.Event) -> Iterator[str]:
    """Yield MailHog's events until `seconds` pass (runs after the request's context ends)."""
    feed = found.feed
    cursor = feed.seq
    end = time.monotonic() + seconds
    last = time.monotonic()
    yield ": stream open\n\n"
    while (now := time.monotonic()) < end and not closing.is_set():
        changes = feed.since(cursor) or []
        cursor = feed.seq if not changes else changes[-1].seq
        for change in (c for c in changes if c.kind == "message"):
            for message_id in change.ids:
                record = found.get_message(message_id)
                if record is not None:
                    data = json.dumps(_shape(record, found), indent=2)
                    yield "event: data\n" + "".join(f"data: {line}\n" for line in
                                                    data.splitlines()) + "\n"  # fmt: skip
                    last = time.monotonic()
        if now - last >= KEEPALIVE:
            yield "event: keepalive\ndata: \n\n"
            last = now
        feed.wait(cursor, min(KEEPALIVE, max(end - now, 0.0)))


# -- Jim -------------------------------------------------------------------------------------


def _jim() -> dict[str, Any]:
    found: dict[str, Any] = current_app.extensions[JIM]
    return found


def _jim_rules(config: dict[str, float]) -> list[FaultRule]:
    """Return fault rules doing what Jim's chances say (link speed has no equivalent)."""
    rules = []
    for key, stage, code, text in (
        ("RejectSenderChance", "mail", 550, "Sender rejected (Jim)"),
        ("RejectRecipientChance", "rcpt", 550, "Recipient rejected (Jim)"),
        ("RejectAuthChance", "auth", 535, "Authentication rejected (Jim)"),
    ):
        chance = float(config.get(key, 0.0))
        if chance > 0:
            rules.append(make_rule(stage, code, text, probability=min(chance, 1.0)))
    refuse = 1.0 - float(config.get("AcceptChance", 1.0))
    if refuse > 0:
        rules.append(make_rule("connect", 421, "Connection refused (Jim)",
                               probability=min(refuse, 1.0)))  # fmt: skip
    disconnect = float(config.get("DisconnectChance", 0.0))
    if disconnect > 0:
        rules.append(make_rule("data", drop=True, probability=min(disconnect, 1.0)))
    return rules


def _apply_jim(config: dict[str, float] | None) -> None:
    faults = context().faults
    if faults is None:
        fail(404, "this server has no SMTP listener")
    jim = _jim()
    with jim["lock"]:
        for rule in jim["rules"]:
            faults.remove(rule)
        jim["config"], jim["rules"] = config, _jim_rules(config) if config else []
        for rule in jim["rules"]:
            faults.add(rule)


def _jim_body() -> dict[str, float]:
    body = request.get_json(silent=True, force=True)
    config = dict(_jim()["config"] or JIM_DEFAULTS)
    if isinstance(body, dict):
        for key in JIM_DEFAULTS:
            value = body.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                config[key] = float(value)
    return config


@routes.get("/api/v2/jim")
def get_jim() -> Any:
    """GET /api/v2/jim: Jim's settings; 404 while Jim is off."""
    config = _jim()["config"]
    if config is None:
        fail(404, "not found")
    return jsonify(config)


@routes.post("/api/v2/jim")
def create_jim() -> Response:
    """POST /api/v2/jim: turn Jim on (MailHog's defaults, or the body's values)."""
    _apply_jim(_jim_body())
    return plain("", 201)


@routes.put("/api/v2/jim")
def update_jim() -> Response:
    """PUT /api/v2/jim: change Jim's settings."""
    if _jim()["config"] is None:
        fail(404, "not found")
    _apply_jim(_jim_body())
    return plain("")


@routes.delete("/api/v2/jim")
def delete_jim() -> Response:
    """DELETE /api/v2/jim: turn Jim off."""
    _apply_jim(None)
    return plain("")

"""Live routes of the JSON API: a server-side wait and a Server-Sent Events stream.

Under WSGI each open wait or stream holds a server thread, so they share a fixed number of
slots (Config.http_max_waits, below the pool of 64 threads): past it they get 503 and plain
requests still find a free thread. Both block on the Store's change feed, never sleep-poll.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change, ChangeFeed

from .. import shapes
from ..context import EXTENSION, STOP_HOOKS, context, store
from ..ids import parse_id
from .params import accepts, fail, id_arg, inbox_arg, int_arg, query_arg

routes = Blueprint("live", __name__)

MAX_TIMEOUT = 300.0
# Changes that can make more messages match a wait (a deletion or a new session cannot).
WAKING = frozenset({"message", "indexed", "updated"})
RETRY_MS = 2000
SLOTS = "mailtrap_lite.live_slots"  # app.extensions key of the open waits and streams


class Slots:
    """A count of open waits and streams with a fixed ceiling, and a signal to end them."""

    def __init__(self, limit: int, feed: ChangeFeed) -> None:
        self.limit = limit
        self._open = 0
        self._lock = threading.Lock()
        self._feed = feed
        self.closing = threading.Event()

    def take(self) -> None:
        """Take a slot or fail with 503."""
        with self._lock:
            if self._open >= self.limit:
                fail(503, "too many open waits and event streams; try again shortly")
            self._open += 1

    def give_back(self) -> None:
        """Return a slot."""
        with self._lock:
            self._open -= 1

    def taken(self) -> int:
        """Return how many waits and streams are open."""
        return self._open

    def close(self) -> None:
        """End every open wait and stream now (the server is stopping)."""
        self.closing.set()
        self._feed.wake_all()


@routes.record_once
def _setup_slots(state: BlueprintSetupState) -> None:
    extensions = state.app.extensions
    ctx = extensions[EXTENSION]
    slots = extensions[SLOTS] = Slots(ctx.config.http_max_waits, ctx.store.feed)
    extensions.setdefault(STOP_HOOKS, []).append(slots.close)


def live_slots() -> Slots:
    """Return the running app's open waits and streams."""
    found: Slots = current_app.extensions[SLOTS]
    return found


# -- wait ------------------------------------------------------------------------------------


@routes.get("/wait")
@accepts("query", "inbox", "count", "timeout", "after", "limit")
def wait() -> Any:
    """GET /wait?query=&inbox=&count=1&timeout=10&after=ID&limit=50: block for `count` matches.

    Matches newer than `after` (without it, stored ones count too); then {"total", "messages"}:
    how many match, and the newest `limit` of them (at most 1,000, as lists). 408 when `timeout`
    (0-300 s) passes; 400 on bad parameters; 503 when too many waits and streams are open.
    """
    query, inbox, after = query_arg(), inbox_arg(), id_arg("after")
    count = int_arg("count", 1, low=1, high=10_000)
    limit = int_arg("limit", 50)
    timeout = _timeout_arg()
    slots = live_slots()
    slots.take()
    try:
        found = _wait_for(store(), lambda: store().count_messages(query, inbox, after), count,
                          timeout, slots.closing)  # fmt: skip
    finally:
        slots.give_back()
    if slots.closing.is_set() and found < count:
        fail(503, "the server is stopping")
    if found < count:
        fail(408, f"timed out after {timeout:g} s: {found} of {count} matching message(s) arrived")
    page = store().list_messages(inbox=inbox, limit=limit, after=after, query=query)
    return jsonify(total=page.total, messages=[shapes.summary(m) for m in page.messages])


def _timeout_arg() -> float:
    text = request.args.get("timeout", "").strip() or "10"
    try:
        timeout = float(text) if text.isascii() else -1.0  # float() reads other scripts' digits
    except ValueError:
        timeout = -1.0
    if not 0 <= timeout <= MAX_TIMEOUT:  # also rejects nan
        fail(400, f"timeout must be a number of seconds from 0 to 300, got {text!r}")
    return timeout


def _wait_for(
    store: Store, counter: Any, count: int, timeout: float, closing: threading.Event
) -> int:
    """Count matches again after each relevant change until `count` or the deadline."""
    feed = store.feed
    deadline = time.monotonic() + timeout
    while True:
        seen = feed.seq  # read before counting, so a commit in between still wakes us
        found: int = counter()
        remaining = deadline - time.monotonic()
        if found >= count or remaining <= 0 or closing.is_set():
            return found
        _next_relevant(feed, seen, deadline)


def _next_relevant(feed: ChangeFeed, seen: int, deadline: float) -> None:
    """Block until a change that may add matches (or a wake-up, or the deadline)."""
    while (remaining := deadline - time.monotonic()) > 0:
        newest = feed.wait(seen, remaining)
        changes = feed.since(seen)
        if newest == seen or changes is None or any(c.kind in WAKING for c in changes):
            return
        seen = newest


# -- events ----------------------------------------------------------------------------------


@routes.get("/events")
@accepts("inbox", "last_event_id")
def events() -> Response:
    """GET /events?inbox=: Server-Sent Events `message`, `updated`, `deleted`, `session`.

    Each event's id is the change number; a reconnect with Last-Event-ID resumes after it
    (`reset` when those changes are forgotten: reload). Comment lines every
    Config.events_heartbeat seconds; the stream ends after Config.events_seconds. 503 when
    too many waits and streams are open.
    """
    ctx = context()
    start = _last_event_id()
    slots = live_slots()
    slots.take()
    stream = EventStream(ctx.store, inbox_arg(), start, slots.closing)
    lines = stream.lines(ctx.config.events_seconds, ctx.config.events_heartbeat)
    response = Response(lines, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # tell nginx not to buffer the stream
    response.call_on_close(slots.give_back)  # the server closes every response it served
    return response


def _last_event_id() -> int | None:
    text = (request.headers.get("Last-Event-ID") or request.args.get("last_event_id", "")).strip()
    if not text:
        return None
    value = parse_id(text)
    if value is None:
        fail(400, f"Last-Event-ID must be an event id (ASCII digits), got {text!r}")
    return value


class EventStream:
    """One client's stream of changes, rendered as text/event-stream (WHATWG HTML §9.2)."""

    def __init__(
        self, store: Store, inbox: str | None, start: int | None, closing: threading.Event
    ) -> None:
        self.store = store
        self.inbox = inbox
        self.start = start
        self.closing = closing

    def lines(self, seconds: float, heartbeat: float) -> Iterator[str]:
        """Yield events until `seconds` pass; a comment when idle for `heartbeat` seconds."""
        feed = self.store.feed
        end = time.monotonic() + seconds
        cursor = feed.seq if self.start is None else self.start
        yield f"retry: {RETRY_MS}\n\n"  # sends the headers now and sets the reconnect delay
        last_write = time.monotonic()
        while (now := time.monotonic()) < end and not self.closing.is_set():
            changes = feed.since(cursor) if cursor <= feed.seq else None
            if changes is None:  # forgotten, or from before a restart: the client reloads
                cursor = feed.seq
                text = _event(cursor, "reset", {})
            elif changes:
                cursor = changes[-1].seq
                text = "".join(self._render(c) for c in changes)
            elif now - last_write >= heartbeat:
                text = ": keep-alive\n\n"
            else:
                feed.wait(cursor, min(end, last_write + heartbeat) - now)
                continue
            if text:
                yield text
                last_write = time.monotonic()

    def _render(self, change: Change) -> str:
        if change.kind == "deleted":
            if self.inbox and change.inbox not in (None, self.inbox):
                return ""
            return _event(change.seq, "deleted", {"ids": [str(i) for i in change.ids]})
        if change.kind == "session":
            return "".join(self._session(change.seq, i) for i in change.ids)
        kind = "message" if change.kind == "message" else "updated"
        return "".join(self._message(change.seq, kind, i) for i in change.ids)

    def _message(self, seq: int, kind: str, message_id: int) -> str:
        record = self.store.get_message(message_id)
        if record is None or (self.inbox and record.inbox != self.inbox):
            return ""
        return _event(seq, kind, shapes.summary(record))

    def _session(self, seq: int, session_id: int) -> str:
        session = self.store.get_session(session_id, transcript=False)
        if session is None or (self.inbox and session.inbox != self.inbox):
            return ""
        return _event(seq, "session", shapes.session(session))


def _event(seq: int, kind: str, data: dict[str, Any]) -> str:
    return f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"

"""The browser UI: server-rendered pages with small plain JavaScript modules.

Stable URLs (INTERFACE.md): `/` (`?inbox=`, `?query=`, `?before=ID`), `/messages/ID`,
`/sessions`, `/sessions/ID`. Actions (delete, read/unread) and live updates go through the
JSON API from the browser; the pages themselves only read the Store.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from mailtrap_lite.mime.body import BODY_HEADER_BYTES, MAX_PARTS
from mailtrap_lite.store import Page, QueryTimeout, StorageError
from mailtrap_lite.store.query import QueryError, parse_query
from mailtrap_lite.store.queryhelp import SEARCH_HELP

from ..context import context, reports, searches, store
from ..ids import parse_id
from . import content
from .model import byte_size, envelope_rows
from .sessions import duration, transcript_lines
from .source import KINDS, source_view

ui = Blueprint(
    "ui", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

PAGE_SIZE = 50
LINK_SOURCES = {"html": "HTML link", "html-text": "HTML text", "text": "text body"}
# What a message page shows at most of each part; the page says what it left out, and the
# Source tab and the .eml download have it all. Four views at once of a 30 MB one-line text
# grew the server by 637 MiB while every byte of the text was put in each page.
SHOWN = {
    "source": 512 * 1024,  # bytes of the raw message
    "text": 256 * 1024,  # characters of the text body
    "headers": 1000,  # header fields
    "links": 1000,  # links
}
TRANSCRIPT_PAGE = 1000  # transcript lines on a page (the session page has the others)
# Pages may load only this app's own scripts, styles and images, and frame only this app.
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)

ui.add_app_template_filter(byte_size, "bytes")
ui.add_url_rule("/messages/<id:message_id>/body.html", view_func=content.html_document)
ui.add_url_rule("/messages/<id:message_id>/cid/<path:content_id>", view_func=content.inline_part)
ui.add_url_rule("/messages/<id:message_id>/attachments/<id:index>", view_func=content.attachment)
ui.add_url_rule("/messages/<id:message_id>/download.eml", view_func=content.raw_download)


@ui.context_processor
def _search_help() -> dict[str, Any]:
    """Give every page the search help of its search box."""
    return {"search_help": SEARCH_HELP}


@ui.after_request
def security_headers(response: Response) -> Response:
    """Give every UI page a strict policy; content routes set their own."""
    response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _counts() -> tuple[list[tuple[str, int, int]], int]:
    """Return (name, total, unread) per inbox and the pruned count, recounted after changes.

    Counting is a GROUP BY over every message (~60 ms at 100,000), and every page shows it.
    """
    cache: dict[str, Any] = current_app.extensions.setdefault("mailtrap_lite.ui", {})
    seq = store().feed.seq
    cached = cache.get("counts")
    if cached is None or cached[0] != seq:
        cached = (seq, store().inboxes(), store().stats()["pruned"])
        cache["counts"] = cached
    return cached[1], cached[2]


def _inboxes() -> list[tuple[str, int, int]]:
    """Return (name, total, unread) per inbox for the switcher."""
    return _counts()[0]


@ui.app_template_global("tag_query")
def tag_query(name: str) -> str:
    """Return the search for one tag (quoted when the name has a space)."""
    return f'tag:"{name}"' if " " in name else f"tag:{name}"


@ui.context_processor
def _sidebar() -> dict[str, Any]:
    """Give every page the tags for the sidebar (recounted after changes, like inboxes)."""
    cache: dict[str, Any] = current_app.extensions.setdefault("mailtrap_lite.ui", {})
    seq = store().feed.seq
    cached = cache.get("tags")
    if cached is None or cached[0] != seq:
        try:
            cached = cache["tags"] = (seq, store().tags())
        except StorageError:  # the error page of a Store that failed renders all the same
            return {"sidebar_tags": []}
    return {"sidebar_tags": cached[1]}


def _feed_position() -> int:
    """Return the change a live page is built at; its event stream replays all that follow.

    Read it before the page's data: a change between the two is then shown twice, never lost.
    """
    return store().feed.seq


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    parsed = parse_id(value)
    if parsed is None:
        abort(400, f"{name} must be a whole number (ASCII digits)")
    return parsed


@ui.app_template_global()
def check_failures(message_id: int) -> int | None:
    """Return how many deliverability checks of a listed message fail, None if not known yet.

    Only kept reports count here (StoredReports): the page is sent at once, and its script
    fills in the badges of the rows not checked before (inbox.js), one request at a time.
    """
    return reports().known_failures(message_id)


@ui.get("/")
def inbox() -> tuple[str, int]:
    """Show one page of messages, newest first, with the inbox switcher and search box."""
    name = request.args.get("inbox") or None
    text = request.args.get("query", "").strip()
    before = _int_arg("before")
    try:
        query = parse_query(text) if text else None
        since = _feed_position()
        # One more than a page tells whether an older page exists.
        with searches().admitted() if query is not None else nullcontext():
            page = store().list_messages(inbox=name, limit=PAGE_SIZE + 1, before=before,
                                         query=query)  # fmt: skip
    except QueryError as error:  # the page then shows the error alone, pointing at it
        return _inbox_page(name, text, before, Page(0, []), error), 400
    except QueryTimeout as error:  # said like a query error, without a position
        return _inbox_page(name, text, before, Page(0, []), QueryError(str(error))), 503
    return _inbox_page(name, text, before, page, since=since), 200


def _inbox_page(
    name: str | None,
    query: str,
    before: int | None,
    page: Page,
    error: QueryError | None = None,
    since: int | None = None,
) -> str:
    older = page.messages[PAGE_SIZE - 1].id if len(page.messages) > PAGE_SIZE else None
    return render_template(
        "ui/inbox.html",
        page=Page(page.total, page.messages[:PAGE_SIZE]),
        page_size=PAGE_SIZE,
        inbox=name,
        query=query,
        before=before,
        older=older,
        error=error,
        error_at=_error_parts(query, error) if error else None,
        inboxes=_inboxes(),
        pruned=_counts()[1],
        smtp_address=context().smtp_address,
        since=since,
    )


def _error_parts(query: str, error: QueryError) -> tuple[str, str, str] | None:
    """Split the query around the part that failed: (before, failed, after), or None."""
    if error.position is None:
        return None
    start = error.position - 1
    end = start + error.length
    return query[:start], query[start:end] or " ", query[end:]


@ui.get("/messages/<id:message_id>")
def message(message_id: int) -> str:
    """Show one message with its tabs (its script marks it read: GET never changes state).

    The page shows each part of the read model up to a bound of its own (SHOWN) and says
    what it left out; the Source tab and the .eml download have everything.
    """
    since = _feed_position()
    record = store().get_message(message_id)
    source = store().raw_start(message_id, SHOWN["source"])
    if record is None or source is None:
        abort(404, f"There is no message #{message_id}: it was deleted, or pruned to keep within"
                   " --max-messages, or never existed.")  # fmt: skip
    parsed = content.read(message_id)
    session = store().get_session(record.session_id) if record.session_id else None
    checks = reports().report(message_id)
    if checks is None:  # deleted meanwhile
        abort(404)
    return render_template(
        "ui/message.html",
        releases=store().releases(message_id),
        relay=context().relay,
        message=record,
        parsed=parsed,
        shown=SHOWN,
        text=(parsed.text or "")[: SHOWN["text"]],
        headers=parsed.headers[: SHOWN["headers"]],
        links=parsed.links[: SHOWN["links"]],
        header_limit=BODY_HEADER_BYTES,
        part_limit=MAX_PARTS,
        link_sources=LINK_SOURCES,
        envelope=envelope_rows(record),
        source=source_view(source),
        source_kinds=KINDS,
        source_limit=SHOWN["source"],
        source_cut=record.size > SHOWN["source"],
        remote=request.args.get("remote") == "1",
        remote_count=content.remote_references(parsed.html or ""),
        session=session,
        transcript=transcript_lines(session, 0, TRANSCRIPT_PAGE) if session else [],
        transcript_total=len(session.transcript or []) if session else 0,
        session_duration=duration(session) if session else "",
        checks=checks,
        inboxes=_inboxes(),
        since=since,
    )


@ui.get("/sessions")
def sessions() -> str:
    """List SMTP sessions newest first, failures highlighted."""
    name = request.args.get("inbox") or None
    since = _feed_position()
    listed = store().list_sessions(inbox=name, limit=PAGE_SIZE + 1, before=_int_arg("before"))
    older = listed[PAGE_SIZE - 1].id if len(listed) > PAGE_SIZE else None
    rows = [{"session": s, "duration": duration(s)} for s in listed[:PAGE_SIZE]]
    return render_template(
        "ui/sessions.html",
        rows=rows,
        page_size=PAGE_SIZE,
        inbox=name,
        older=older,
        inboxes=_inboxes(),
        since=since,
    )


@ui.get("/sessions/<id:session_id>")
def session(session_id: int) -> str:
    """Show one SMTP session and TRANSCRIPT_PAGE lines of its transcript (`?page=N`).

    An open one reloads when it ends.
    """
    since = _feed_position()
    found = store().get_session(session_id)
    if found is None:
        abort(404, f"There is no session #{session_id}: it was pruned to keep within"
                   " --max-sessions, or never existed.")  # fmt: skip
    total = len(found.transcript or [])
    pages = max(1, -(-total // TRANSCRIPT_PAGE))
    number = _int_arg("page") or 1
    if number > pages:
        abort(404, f"Session #{session_id} has {total} transcript lines, {pages} page(s) of"
                   f" {TRANSCRIPT_PAGE}: there is no page {number}.")  # fmt: skip
    start = (number - 1) * TRANSCRIPT_PAGE
    return render_template(
        "ui/session.html",
        session=found,
        duration=duration(found),
        transcript=transcript_lines(found, start, TRANSCRIPT_PAGE),
        lines=(start + 1, min(total, start + TRANSCRIPT_PAGE), total),
        page=number,
        pages=pages,
        inboxes=_inboxes(),
        since=since if found.ended_at is None else None,
    )

"""Serving what a message contains: its HTML (sandboxed), inline parts, attachments, raw bytes.

Email HTML is hostile input (DESIGN.md). It is never put into a UI page: it is served as a
document of its own, under a Content-Security-Policy that forbids every script and, until the
user asks, every fetch that leaves this app; the UI frames it in an iframe sandboxed without
allow-scripts, and the policy's own `sandbox` directive applies even when the document is
opened directly.
The server never fetches anything a message points to.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, abort, request, url_for

from mailtrap_lite.message import Message

from ..context import store
from ..downloads import download, inline_image

# Everything denied unless listed; no script-src at all, so no script runs, remote or inline.
# The sandbox keeps this app's origin only so that the UI can measure the document's height:
# without allow-scripts (here and on the frame) nothing in it can use that origin.
_HTML_POLICY = (
    "default-src 'none'; img-src data: {cid}{remote}; style-src 'unsafe-inline'{remote};"
    " font-src data:{remote}; media-src data:{remote}; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    " allow-same-origin"
)
# Characters of a message's HTML put in its frame; mail clients clip far earlier (Gmail at
# 102 KB). Past it the frame ends with a note; the Source tab and the .eml have the rest.
MAX_HTML_SHOWN = 1024 * 1024
_CUT_NOTE = (
    '<p style="border-top:1px solid;margin-top:2em;padding-top:.5em;font:small sans-serif">'
    "Only the first {shown} of {total} characters of this HTML are shown; the Source tab and"
    " the .eml download have all of it.</p>"
)
_CID = re.compile(r"""\bcid:([^\s"'()<>]+)""", re.IGNORECASE)
# <meta http-equiv> pragmas (refresh above all) act without a click; renaming the attribute
# disarms every value, however its characters are encoded (names are never entity-decoded).
_HTTP_EQUIV = re.compile(r"""(<meta\b(?:[^>"']|"[^"]*"|'[^']*')*?\s)http-equiv\b""", re.IGNORECASE)
# Plugin elements: the policy blocks them (object-src falls back to 'none'), but a blocked one
# can keep Chromium from ever firing the frame's load event (1 load in 25 with this app's
# origin), so the preview would stay unmeasured; renamed, they are inert and show their fallback.
_PLUGIN = re.compile(r"<(/?)(object|embed|applet)\b", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)
_HEAD_EXTRA = (
    '<meta charset="utf-8"><meta name="referrer" content="no-referrer"><base target="_blank">'
)
# Absolute (http, https) and protocol-relative URLs in attributes that load, and in CSS.
_REMOTE = re.compile(
    r"""(?:\b(?:src|srcset|background|poster|data)\s*=\s*["']?|url\(\s*["']?|<link\b[^>]*"""
    r"""\bhref\s*=\s*["']?)\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def read(message_id: int) -> Message:
    """Return the stored message's read model (shared with the page and the API), or 404."""
    message = store().read_message(message_id) if store().get_message(message_id) else None
    if message is None:
        abort(404)
    return message


def html_document(message_id: int) -> Response:
    """Serve a message's HTML body under a strict policy; ?remote=1 allows remote media."""
    html = read(message_id).html
    if html is None:
        abort(404)
    cid_base = url_for("ui.inline_part", message_id=message_id, content_id="x")[:-1]
    markup = prepare_html(html[:MAX_HTML_SHOWN], cid_base)
    if len(html) > MAX_HTML_SHOWN:
        markup += _CUT_NOTE.format(shown=MAX_HTML_SHOWN, total=len(html))
    remote = " https: http:" if request.args.get("remote") == "1" else ""
    cid_source = request.host_url.rstrip("/") + cid_base
    response = Response(markup, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _HTML_POLICY.format(cid=cid_source, remote=remote)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-DNS-Prefetch-Control"] = "off"
    response.headers["Cache-Control"] = "no-store"
    return response


def prepare_html(markup: str, cid_base: str) -> str:
    """Point cid: URLs at this app, disarm meta pragmas and plugins, open links outside."""
    markup = _HTTP_EQUIV.sub(r"\1data-disarmed-http-equiv", markup)
    markup = _PLUGIN.sub(r"<\1disarmed-\2", markup)
    markup = _CID.sub(lambda m: cid_base + quote(m.group(1), safe="@.-_~"), markup)
    doctype = _DOCTYPE.match(markup)
    at = doctype.end() if doctype else 0
    return markup[:at] + _HEAD_EXTRA + markup[at:]


def remote_references(markup: str) -> int:
    """Count what the HTML would load from elsewhere: src, srcset, poster, url(), <link>."""
    return len(_REMOTE.findall(markup))


def inline_part(message_id: int, content_id: str) -> Response:
    """Serve the part with this Content-ID (RFC 2392), for the HTML view's cid: images."""
    part = read(message_id).inline_part(content_id)
    if part is None:
        abort(404)
    return inline_image(part.data, part.filename, f"part-{part.index}", part.content_type)


def attachment(message_id: int, index: int) -> Response:
    """Serve attachment N for download, always as an attachment with a safe file name."""
    found = read(message_id).attachment(index)
    if found is None:
        abort(404)
    return download(found.data, found.filename, f"part-{found.index}", found.content_type)


def raw_download(message_id: int) -> Response:
    """Serve the exact bytes received as a .eml download."""
    raw = store().raw(message_id)
    if raw is None:
        abort(404)
    return download(raw, f"message-{message_id}.eml", "message.eml", "message/rfc822")

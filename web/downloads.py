"""Sending a message's bytes or parts to the browser: one path, one file-name sanitiser.

Every byte of a message is hostile input. A download is always `Content-Disposition:
attachment` with a cleaned file name, never sniffed (`X-Content-Type-Options: nosniff`) and
sandboxed even when opened directly (`Content-Security-Policy: sandbox`), and it carries
the sender's content type only where that type cannot run in a page: anything else goes out
as application/octet-stream, so a `<script src>` pointing at it on our own origin is refused.
Inline images for the HTML frame (`cid:`) are the one thing shown in place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response

# Served parts and downloads may not run anything even when opened as a top-level page.
PART_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
# Types a browser shows and never runs; everything else downloads as octet-stream.
SHOWN_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
# Types kept on a download: no browser runs them as script or style (nosniff holds them).
KEPT_TYPES = SHOWN_TYPES | {"message/rfc822"}
MAX_FILENAME = 150
_UNSAFE_NAME = re.compile(r"[\\/:*?\"<>|]+")


def safe_filename(name: str | None, fallback: str) -> str:
    """Return a file name without path separators, control or format characters, or dots
    at the ends (U+202E and the other bidirectional controls are format characters)."""
    cleaned = "".join(c for c in name or "" if unicodedata.category(c)[0] != "C")
    cleaned = _UNSAFE_NAME.sub("_", cleaned).strip(" ._")
    return cleaned[:MAX_FILENAME] or fallback


def content_disposition(kind: str, filename: str) -> str:
    """Build a Content-Disposition with an ASCII name and the UTF-8 one (RFC 6266 §4.3)."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    ascii_name = ascii_name.replace('"', "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(data: bytes, filename: str | None, fallback: str, content_type: str) -> Response:
    """Return bytes as a file download with the safe headers."""
    kept = content_type if content_type in KEPT_TYPES else "application/octet-stream"
    response = Response(data, mimetype=kept)
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", safe_filename(filename, fallback)
    )
    return _harden(response)


def download_stream(
    chunks: Iterable[bytes], filename: str | None, fallback: str, content_type: str
) -> Response:
    """Return a download written while it is sent (an export), with the safe headers."""
    kept = content_type if content_type in KEPT_TYPES else "application/octet-stream"
    response = Response(chunks, mimetype=kept)
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", safe_filename(filename, fallback)
    )
    return _harden(response)


def inline_image(data: bytes, filename: str | None, fallback: str, content_type: str) -> Response:
    """Return a part for display inside the message's HTML frame (images only)."""
    if content_type not in SHOWN_TYPES:
        return download(data, filename, fallback, content_type)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = content_disposition(
        "inline", safe_filename(filename, fallback)
    )
    return _harden(response)


def _harden(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PART_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response

"""Export and import routes of the JSON API: GET /export streams, POST /import takes a file."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, Response, jsonify, request

from mailtrap_lite.store import Store
from mailtrap_lite.store.records import StoredMessage
from mailtrap_lite.store.tagging import TagError, check_tag, unique_tags
from mailtrap_lite.transfer import Exporter, Importer, StoreTarget
from mailtrap_lite.transfer.files import read_stream
from mailtrap_lite.transfer.mbox import mboxrd_message
from mailtrap_lite.transfer.writers import STREAMED_FORMATS, ZipWriter

from .. import shapes
from ..context import context, searches, store
from ..downloads import download_stream, safe_filename
from .params import accepts, fail, inbox_arg, query_arg

routes = Blueprint("transfer", __name__)

CONTENT_TYPES = {"mbox": "application/mbox", "zip": "application/zip"}
SPOOL_BYTES = 8 * 1024 * 1024  # an upload larger than this waits on disk, not in memory
MAX_IDS = 1000


@routes.get("/export")
@accepts("query", "inbox", "format", "ids", "sessions")
def export() -> Response:
    """GET /export?query=&inbox=&format=mbox|zip&ids=&sessions=: the matches as a download.

    Oldest first, raw bytes as stored (mbox: mboxrd), streamed page by page in constant
    memory, `Content-Disposition: attachment`. `ids` (comma-separated) exports exactly those
    messages (the UI's selection); `sessions=true` adds sessions.jsonl to a zip. 400 on a bad
    format, query or id list; 503 past --max-searches, or when the first page's search runs
    past --query-timeout (a later page that does ends the download early).
    """
    fmt = request.args.get("format", "mbox")
    if fmt not in STREAMED_FORMATS:
        fail(400, f"format must be one of {', '.join(STREAMED_FORMATS)}, got {fmt!r}")
    sessions = request.args.get("sessions", "") in ("true", "1")
    if sessions and fmt != "zip":
        fail(400, "sessions=true needs format=zip (an mbox file holds messages only)")
    exporter = Exporter(store(), query_arg(), inbox_arg(), sessions)
    chosen = _ids_arg() if "ids" in request.args else None
    give_back = searches().take()  # an export is a search: held until the download ends
    try:
        messages = exporter.messages() if chosen is None else _selected(exporter.store, chosen)
        messages = _started(messages)
        chunks = _zip_chunks(exporter, messages) if fmt == "zip" else _mbox_chunks(messages)
        name = f"mailtrap-lite-export.{fmt}"
        response = download_stream(chunks, name, name, CONTENT_TYPES[fmt])
    except BaseException:
        give_back()
        raise
    response.call_on_close(give_back)
    return response


def _started(messages: Iterator[StoredMessage]) -> Iterator[StoredMessage]:
    """Run the first page's search now, so that a slow or too large query is answered 503
    or 400 before the download starts; later pages are searched as it streams."""
    first = next(messages, None)
    return iter(()) if first is None else itertools.chain((first,), messages)


def _ids_arg() -> list[int]:
    texts = [t.strip() for t in request.args.get("ids", "").split(",") if t.strip()]
    if not texts or len(texts) > MAX_IDS or not all(t.isascii() and t.isdigit() for t in texts):
        fail(400, f"ids must be 1 to {MAX_IDS} comma-separated message ids")
    return sorted({int(t) for t in texts})


def _selected(found_in: Store, ids: list[int]) -> Iterator[StoredMessage]:
    """Yield the chosen messages that exist, oldest first (runs while the response streams,
    outside the request: it is given the Store)."""
    for message_id in ids:
        record, raw = found_in.get_message(message_id), found_in.raw(message_id)
        if record is not None and raw is not None:
            yield StoredMessage(record.id, record.inbox, record.session_id, record.received_at,
                                record.mail_from, record.rcpt_to, record.read, raw)  # fmt: skip


def _mbox_chunks(messages: Iterator[StoredMessage]) -> Iterator[bytes]:
    for message in messages:
        yield mboxrd_message(message)


class _Chunks:
    """A write-only stream whose bytes are taken out as they come (zipfile writes into it)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip_chunks(exporter: Exporter, messages: Iterator[StoredMessage]) -> Iterator[bytes]:
    sink = _Chunks()
    writer = ZipWriter(sink)  # type: ignore[arg-type]  # all zipfile needs: write and flush
    for message in messages:
        writer.add(message)
        yield sink.take()
    if exporter.sessions:
        writer.add_sessions(exporter.session_lines())
    writer.close()
    yield sink.take()


@routes.post("/import")
@accepts("inbox", "source", "keep_duplicates", "filename", repeatable=("tag",))
def import_file() -> Any:
    """POST /import?inbox=&tag=&source=&keep_duplicates=&filename=: import an uploaded file.

    The body is an mbox (mboxo or mboxrd), a zip file or one message (.eml), sent as is or
    as the `file` field of a form; its kind comes from the file name, else its first bytes.
    Each `tag` (repeatable) is given to every message stored. Answers {"imported",
    "skipped", "failed": [{where, reason, kind, ordinal}], "session_ids"}. 400 without a
    body or with a bad tag name, 413 past the upload limit.
    """
    ctx = context()
    request.max_content_length = ctx.config.http_max_upload
    tags = _tags_arg()
    upload, name = _upload()
    with upload:
        found = read_stream(upload, name, Path(name), ctx.config.max_message_size)
        keep = request.args.get("keep_duplicates", "") in ("true", "1")
        importer = Importer(StoreTarget(store(), inbox_arg() or "default", keep, tags))
        tally = importer.run(f"upload {request.args.get('source') or name}", found)
    return jsonify(shapes.import_summary(tally))


def _tags_arg() -> list[str]:
    """Read the tag= parameters (each a tag name), or fail with 400 naming the bad one."""
    try:
        return unique_tags(check_tag(name) for name in request.args.getlist("tag"))
    except TagError as error:
        fail(400, f"tag: {error}")


def _upload() -> tuple[IO[bytes], str]:
    """Return the uploaded file (spooled to disk past SPOOL_BYTES) and its name."""
    if request.files:
        field = request.files.get("file")
        if field is None:
            fail(400, "the form has no `file` field")
        spooled: IO[bytes] = tempfile.SpooledTemporaryFile(SPOOL_BYTES)
        field.save(spooled)
        name = field.filename or "upload"
    else:
        spooled = tempfile.SpooledTemporaryFile(SPOOL_BYTES)
        while chunk := request.stream.read(1 << 16):
            spooled.write(chunk)
        name = request.args.get("filename") or "upload"
    if spooled.tell() == 0:
        spooled.close()
        fail(400, "nothing to import: the request has no file")
    spooled.seek(0)
    return spooled, safe_filename(name, "upload")

"""`mailtrap-lite export OUT [--format mbox|maildir|eml|zip] [--query Q] [--inbox NAME]`.

Writes the messages that match (all by default), oldest first, from the database (--db,
read only) or a running server (--url, through GET /api/v1/export). The format follows from
OUT's suffix (.mbox, .zip) unless --format gives it; maildir and eml make a folder.
Exit status: 0 when done, 1 when the server or the output failed, 130 after Ctrl-C.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import QueryError, parse_query
from mailtrap_lite.transfer import Exporter, Tally, TransferError
from mailtrap_lite.transfer.load import StopFlag
from mailtrap_lite.transfer.remote import export_from_server, write_export_zip
from mailtrap_lite.transfer.writers import (
    FORMATS,
    FolderWriter,
    MaildirWriter,
    MboxWriter,
    Writer,
    ZipWriter,
)

from .database import open_for_reading
from .options import Option, Parser, UsageError, add_options, choice, resolve
from .progress import Reporter, reporter, summary
from .where import (
    DB,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    QUIET,
    URL,
    database_or_server,
    stop_on_interrupt,
)

SUFFIXES = {".mbox": "mbox", ".mbx": "mbox", ".zip": "zip"}

OPTIONS = [
    Option("--format", "what to write; by default OUT's suffix tells (.mbox, .zip)",
           choice(*FORMATS), metavar="|".join(FORMATS), shown_default="from OUT's suffix"),
    Option("--query", "export only the messages this search matches (the search language)",
           metavar="Q"),
    Option("--inbox", "export only this inbox", metavar="NAME"),
    Option("--sessions", "add the messages' sessions with their transcripts as JSON lines"
           " (OUT.sessions.jsonl beside an mbox; sessions.jsonl in a folder or zip)",
           switch=True),
    DB, URL, QUIET,
]  # fmt: skip


def build_parser() -> Parser:
    """Describe `mailtrap-lite export`."""
    parser = Parser(prog="mailtrap-lite export", description=(
        "Export captured messages, raw bytes exactly as stored: mbox (mboxrd), a Maildir,"
        " a folder of .eml files, or a zip file of .eml files."))  # fmt: skip
    parser.add_argument("out", metavar="OUT", help="the file or folder to write")
    add_options(parser, OPTIONS)
    return parser


def run(argv: Sequence[str]) -> int:
    """Export; return the exit status."""
    args = build_parser().parse_args(argv)
    values = resolve(args, OPTIONS)
    out = Path(args.out)
    fmt = _format(out, values["format"])
    _check_query(values["query"])
    _check_free(out, fmt)
    db, url = database_or_server(args, values)
    with stop_on_interrupt() as stop:
        try:
            if url is None:
                tally = _from_database(db, out, fmt, values, stop)
            else:
                tally = _from_server(url, out, fmt, values, stop)
        except (TransferError, OSError) as error:
            print(f"mailtrap-lite: {error}", file=sys.stderr)
            return EXIT_FAILED
    if not values["quiet"]:
        print(summary("exported", tally, f" messages to {out}"), flush=True)
    return EXIT_INTERRUPTED if tally.stopped_at is not None else 0


def _format(out: Path, given: str | None) -> str:
    found = given or SUFFIXES.get(out.suffix.lower())
    if found is None:
        raise UsageError(f"cannot tell the format from {out.name!r}; give --format "
                         + "|".join(FORMATS))  # fmt: skip
    return found


def _check_query(text: str | None) -> None:
    try:
        parse_query(text or "")
    except QueryError as error:
        raise UsageError(f"--query: {error}") from None


def _check_free(out: Path, fmt: str) -> None:
    """Refuse to write over anything: a file, or a folder that holds something."""
    taken = out.exists() and (not out.is_dir() or any(out.iterdir()) or fmt in SUFFIXES.values())
    if taken:
        raise UsageError(f"{out} exists; export writes only a new file or an empty folder")


def _writer(out: Path, fmt: str, sessions: bool, opened: list[IO[bytes]]) -> Writer:
    if fmt == "maildir":
        return MaildirWriter(out)
    if fmt == "eml":
        return FolderWriter(out)
    stream = out.open("xb")
    opened.append(stream)
    if fmt == "zip":
        return ZipWriter(stream)
    return MboxWriter(stream, Path(f"{out}.sessions.jsonl") if sessions else None)


def _from_database(
    db: Path | str, out: Path, fmt: str, values: dict[str, Any], stop: StopFlag
) -> Tally:
    store: Store = open_for_reading(db)
    opened: list[IO[bytes]] = []
    try:
        exporter = Exporter(store, parse_query(values["query"] or "") or None,
                            values["inbox"], values["sessions"], stopping=stop)  # fmt: skip
        shown = reporter(values["quiet"], "exported", exporter.total)
        exporter.progress = shown.update
        try:
            return exporter.run(_writer(out, fmt, values["sessions"], opened))
        finally:
            shown.close()
    finally:
        for stream in opened:
            stream.close()
        store.close()


def _from_server(url: str, out: Path, fmt: str, values: dict[str, Any], stop: StopFlag) -> Tally:
    if values["sessions"] and fmt == "mbox":
        raise UsageError("--sessions with --url needs --format zip, maildir or eml")
    shown = reporter(values["quiet"], "exported", lambda: None)
    try:
        if fmt in ("mbox", "zip"):
            with out.open("xb") as stream:
                return _download(url, stream, fmt, values, stop, shown)
        with tempfile.TemporaryFile() as archive:
            tally = _download(url, archive, "zip", values, stop, shown)
            archive.seek(0)
            writer = MaildirWriter(out) if fmt == "maildir" else FolderWriter(out)
            for count in write_export_zip(archive, writer):
                tally.done = count
            return tally
    finally:
        shown.close()


def _download(
    url: str, stream: IO[bytes], fmt: str, values: dict[str, Any], stop: StopFlag, shown: Reporter
) -> Tally:
    """Stream an export into a file; count its messages as they come (mbox separators)."""
    tally = Tally()
    tail = b"\n"
    for chunk in export_from_server(url, fmt, values["query"], values["inbox"],
                                    values["sessions"]):  # fmt: skip
        stream.write(chunk)
        if fmt == "mbox":
            tally.done += (tail + chunk).count(b"\nFrom ")
            tail = chunk[-5:]
            shown.update(tally)
        if stop():
            tally.stopped_at = f"after {tally.done} messages"
            break
    return tally

"""`mailtrap-lite import PATH… [--inbox NAME] [--tag T] [--from-mailpit URL] [--from-mailhog URL]`.

Reads mbox files, Maildirs, .eml files, folders of them and zip files of any of those, or a
running Mailpit or MailHog server, into the database (--db) or a running server (--url).
Exit status: 0 when everything was imported or skipped as a duplicate, 1 when a file or
message failed (each is named on stderr), 130 when Ctrl-C stopped it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailtrap_lite.store import Store
from mailtrap_lite.store.tagging import check_tag, unique_tags
from mailtrap_lite.transfer import Failure, Importer, Item, StoreTarget, Tally, TransferError
from mailtrap_lite.transfer.files import count_path, read_path
from mailtrap_lite.transfer.load import Target
from mailtrap_lite.transfer.peers import MailHogSource, MailpitSource
from mailtrap_lite.transfer.remote import ServerTarget

from .database import open_for_writing
from .options import ENV_PREFIX, Option, Parser, UsageError, add_options, resolve, whole_number
from .progress import reporter, show_failure, summary
from .where import (
    DB,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    QUIET,
    URL,
    database_or_server,
    stop_on_interrupt,
)

OPTIONS = [
    Option("--inbox", "the inbox the messages go to", default="default", metavar="NAME"),
    Option("--tag", "give every imported message this tag, repeatable (the variable:"
           " comma-separated)", check_tag, metavar="T", repeat=True,
           variable=ENV_PREFIX + "IMPORT_TAG"),
    Option("--from-mailpit", "also pull every message of a running Mailpit (its web address)",
           metavar="URL"),
    Option("--from-mailhog", "also pull every message of a running MailHog (its web address)",
           metavar="URL"),
    Option("--keep-duplicates", "import a message even when one with its Message-ID and bytes"
           " is stored", switch=True),
    Option("--max-message-size", "skip (and report) messages larger than N bytes",
           whole_number, "33554432", "N"),
    DB, URL, QUIET,
]  # fmt: skip


@dataclass
class Source:
    """One thing to import: its name (the import session's), its messages, their count."""

    name: str
    items: Callable[[], Iterable[Item | Failure]]
    count: Callable[[], int]


def build_parser() -> Parser:
    """Describe `mailtrap-lite import`."""
    parser = Parser(prog="mailtrap-lite import", description=(
        "Import mbox files (mboxo or mboxrd), Maildirs, .eml files, folders of them and zip"
        " files of any of those; raw bytes are kept exactly. Duplicates (same Message-ID and"
        " bytes) are skipped."))  # fmt: skip
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files and folders to import")
    add_options(parser, OPTIONS)
    return parser


def run(argv: Sequence[str]) -> int:
    """Import; return the exit status."""
    args = build_parser().parse_args(argv)
    values = resolve(args, OPTIONS)
    sources = _sources(args.paths, values)
    tags = unique_tags(values["tag"])
    db, url = database_or_server(args, values)
    shown = reporter(values["quiet"], "imported", lambda: sum(s.count() for s in sources))
    try:
        with contextlib.ExitStack() as opened:
            if url is None:
                store: Store = opened.enter_context(open_for_writing(db))
                target: Target = StoreTarget(store, values["inbox"], values["keep_duplicates"],
                                             tags)  # fmt: skip
            else:
                target = ServerTarget(url, values["inbox"], values["keep_duplicates"], tags)
            tally = _import_all(target, sources, shown.update)
    except TransferError as error:
        shown.close()
        print(f"mailtrap-lite: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BaseException:
        shown.close()
        raise
    shown.close()
    if not values["quiet"]:
        print(summary("imported", tally), flush=True)
    if tally.stopped_at is not None:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if tally.failed else 0


def _import_all(target: Target, sources: list[Source], progress: Callable[[Tally], None]) -> Tally:
    with stop_on_interrupt() as stop:
        importer = Importer(target, progress, stop, show_failure)
        for source in sources:
            importer.run(source.name, source.items())
        return importer.tally


def _sources(paths: list[str], values: dict[str, object]) -> list[Source]:
    max_size = int(str(values["max_message_size"]))
    found = [_file_source(Path(p), max_size) for p in paths]
    for option, kind in (("from_mailpit", MailpitSource), ("from_mailhog", MailHogSource)):
        url = values[option]
        if url is not None:
            try:
                peer = kind(str(url))
            except TransferError as error:
                raise _usage(option, error) from None
            found.append(Source(peer.name, peer.items, peer.count))
    if not found:
        raise _usage("paths", "nothing to import: give files or folders, or --from-mailpit or"
                     " --from-mailhog")  # fmt: skip
    return found


def _usage(option: str, error: object) -> UsageError:
    flag = "--" + option.replace("_", "-")
    return UsageError(str(error) if option == "paths" else f"{flag}: {error}")


def _file_source(path: Path, max_size: int) -> Source:
    return Source(str(path), lambda: read_path(path, max_size), lambda: count_path(path))

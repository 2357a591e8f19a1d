"""What `export` and `import` share: --db or --url, --quiet, and a clean stop on Ctrl-C."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mailtrap_lite.config import ConfigError, parse_db
from mailtrap_lite.transfer import StopFlag

from .options import Option, UsageError
from .serve import default_db

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a run stopped by Ctrl-C

DB = Option("--db", "SQLite file to work on directly (not while a server holds it: use --url),"
            " or a postgresql:// URL", metavar="PATH|URL",
            shown_default="mail.db in the user data directory")  # fmt: skip
URL = Option("--url", "a running server's web address (http://HOST:PORT; user:pass@ for"
             " --ui-auth): work through its API", metavar="URL")  # fmt: skip
QUIET = Option("--quiet", "show no progress", switch=True)


def database_or_server(
    args: argparse.Namespace, values: dict[str, Any]
) -> tuple[Path | str, str | None]:
    """Return the database (a path, or a postgresql:// URL) and the server URL (None: the
    database).

    A flag wins over a variable, so `--db` beats MAILTRAP_LITE_URL and `--url` beats
    MAILTRAP_LITE_DB; given both as flags (or both as variables) is an error.
    """
    db_flag, url_flag = args.db is not None, args.url is not None
    if db_flag and url_flag:
        raise UsageError("give --db or --url, not both")
    url = None if db_flag else values["url"]
    if url is not None and values["db"] is not None and not url_flag:
        raise UsageError(f"{DB.env} and {URL.env} are both set; give --db or --url")
    db = values["db"]
    if db is None:
        return default_db(), url
    try:
        return parse_db(str(db)), url
    except ConfigError as error:
        raise UsageError(f"--db: {error}") from None


@contextmanager
def stop_on_interrupt() -> Iterator[StopFlag]:
    """Turn the first Ctrl-C into a request to stop after the message at hand.

    A second Ctrl-C interrupts at once, as usual (the default handler is back by then);
    what was committed stays either way: every batch is one transaction.
    """
    stop = StopFlag()

    def first(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)

"""`mailtrap-lite migrate OLD.db postgresql://...`: copy a SQLite store into PostgreSQL.

Ids, read flags, snippets, tags, releases, sessions with their transcripts and problems, and
the pruned counts are kept; the target must be empty. Search rows are rebuilt by the indexer
of the server that next starts on the target. Tables this release's PostgreSQL schema has no
place for are named, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mailtrap_lite.config import Config, ConfigError, parse_db

from .options import Parser

DESCRIPTION = (
    "Copy a SQLite store (the file a server ran on) into an empty PostgreSQL database,"
    " keeping message ids, read flags, tags, releases, sessions and transcripts. The SQLite"
    " file is first brought up to this release's schema; a server may keep running on it"
    " meanwhile."
)


def build_parser() -> Parser:
    """Describe `mailtrap-lite migrate OLD.db URL`."""
    parser = Parser(prog="mailtrap-lite migrate", description=DESCRIPTION)
    parser.add_argument("source", metavar="OLD.db", help="the SQLite file to copy")
    parser.add_argument("target", metavar="URL", help="postgresql://USER@HOST:PORT/DATABASE")
    return parser


def run(argv: Sequence[str]) -> int:
    """Copy the store; print what was copied; return the exit status."""
    args = build_parser().parse_args(argv)
    target = parse_db(args.target)
    if not isinstance(target, str):
        raise ConfigError(f"migrate: the target must be a postgresql:// URL, got {args.target!r}")
    # Imported here: the command line loads psycopg only when PostgreSQL is asked for.
    from mailtrap_lite.app import open_store
    from mailtrap_lite.store.postgres import PostgresStore
    from mailtrap_lite.store.postgres.load import load
    from mailtrap_lite.store.sqlite.dump import dump

    store = open_store(Config(db_url=target, max_messages=0, max_sessions=0))
    assert isinstance(store, PostgresStore)
    try:
        with dump(Path(args.source)) as contents:
            copied = load(store, contents)
            skipped = contents.not_copied
    finally:
        store.close()
    print(f"copied {copied['messages']} messages, {copied['sessions']} sessions,"
          f" {copied['transcript_chunks']} transcript chunks, {copied['tags']} tags and"
          f" {copied['releases']} releases into {store.location}")  # fmt: skip
    print("search: the server indexes the copied messages when it starts on this database")
    for table in skipped:
        print(f"not copied: table {table} (this release's PostgreSQL schema has no place for it)")
    return 0

"""A store's contents as plain tables, to move them from one backend to another (no SQL here).

`mailtrap-lite migrate OLD.db postgresql://...` reads a SQLite store into a StoreDump
(store/sqlite/dump.py) and writes it into PostgreSQL (store/postgres/load.py). Rows stream:
each table's rows are read while they are written, so memory stays small.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# What is copied, table by table, in the order it is written: the columns both schemas share.
# Search rows are not copied: the server's indexer rebuilds them from the raw messages.
COPIED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("id", "inbox", "peer", "helo", "tls_version", "tls_cipher", "auth_user",
                 "started_at", "ended_at", "end_reason", "kind", "kept_mail", "problems"),
    "transcript_chunks": ("session_id", "seq", "entries"),
    "messages": ("id", "inbox", "session_id", "received_at", "mail_from", "mail_options",
                 "rcpt_to", "subject", "from_json", "to_json", "cc_json", "reply_to_json",
                 "message_id", "date", "size", "read", "warnings", "attachment_count",
                 "snippet"),
    "message_raw": ("id", "data"),
    "tags": ("id", "name"),
    "message_tags": ("message_id", "tag_id"),
    "releases": ("id", "message_id", "session_id", "released_at", "recipients", "ok", "reply"),
}  # fmt: skip
# Tables whose ids go on after the highest one copied (or ever handed out, where known).
ID_TABLES = ("messages", "sessions", "tags", "releases")
BOOLEAN_COLUMNS = frozenset({"kept_mail", "read", "ok"})
COUNTERS = ("pruned_messages", "pruned_sessions")


@dataclass
class TableDump:
    """One table's rows, in COPIED_COLUMNS order."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[object, ...]]


@dataclass
class StoreDump:
    """What a store holds: its tables, its id counters and what could not be copied."""

    tables: list[TableDump]
    last_ids: dict[str, int]  # per table of ID_TABLES: the highest id ever handed out
    counters: dict[str, int]  # pruned_messages, pruned_sessions
    not_copied: list[str] = field(default_factory=list)  # tables the target has no place for

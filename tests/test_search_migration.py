"""A database from before search (schema 1) is upgraded: old messages become searchable."""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import index_all

RAW = (
    b"From: Old <old@example.com>\r\nTo: Ann <ann@example.com>\r\nSubject: from before\r\n"
    b"X-Kind: legacy\r\n\r\nan ancient body\r\n"
)


def schema_1_database(path: Path) -> None:
    """Write a database as version 1 of the schema left it, holding one indexed message."""
    schema = resources.files("mailtrap_lite.store.sqlite.schema")
    script = schema.joinpath("001_initial.sql").read_text()
    with sqlite3.connect(path) as db:
        db.executescript(script + "\nPRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO messages (inbox, received_at, mail_from, mail_options, rcpt_to, subject,"
            " from_json, to_json, cc_json, reply_to_json, size, warnings, snippet,"
            " attachment_count, indexed) VALUES ('default', '2024-01-02T03:04:05.000Z',"
            " 'old@example.com', '[]', ?, 'from before', ?, ?, '[]', '[]', ?, '[]',"
            " 'an ancient body', 0, 1)",
            (json.dumps(["ann@example.com", "bcc@example.com"]),
             json.dumps(["Old", "old@example.com"]), json.dumps([["Ann", "ann@example.com"]]),
             len(RAW)),
        )  # fmt: skip
        db.execute("INSERT INTO message_raw (id, data) VALUES (1, ?)", (RAW,))
    db.close()


def total(store: Store, query: str) -> int:
    return store.list_messages(query=parse_query(query)).total


def test_old_messages_become_searchable_once_indexed_again(tmp_path: Path):
    path = tmp_path / "old.db"
    schema_1_database(path)
    store = SQLiteStore(path)
    try:
        assert store.stats()["unindexed"] == 1  # queued for the indexer again
        index_all(store)
        assert total(store, "to:ann@example.com bcc:bcc@example.com from:old@example.com") == 1
        assert total(store, "ancient header:X-Kind=legacy subject:before") == 1
    finally:
        store.close()

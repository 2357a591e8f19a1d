"""A search's total is kept between requests (store/sqlite/counts.py) and always right.

Each test asks once (so the count is kept), changes the store, and asks again: the second
total must be what counting afresh gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import index_all, make_message, store_message


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "counts.db")
    yield opened
    opened.close()


def _send(store: SQLiteStore, subject: str, body: str = "the invoice is attached") -> int:
    return store_message(store, bytes(make_message(subject, body)))


def _total(store: SQLiteStore, text: str) -> int:
    return store.list_messages(query=parse_query(text)).total


def _afresh(tmp_path: Path, store: SQLiteStore, text: str) -> int:
    """Count in a second Store on the same file: nothing kept there."""
    other = SQLiteStore(tmp_path / "counts.db", read_only=True)
    try:
        return other.count_messages(parse_query(text))
    finally:
        other.close()


def test_total_counts_mail_indexed_after_the_first_search(store: SQLiteStore) -> None:
    for n in range(3):
        _send(store, f"order {n}")
    index_all(store)
    assert _total(store, "invoice") == 3
    for n in range(2):
        _send(store, f"late {n}")
    assert _total(store, "invoice") == 3  # stored, not yet searchable
    index_all(store)
    assert _total(store, "invoice") == 5
    assert store.count_messages(parse_query("invoice")) == 5


def test_total_drops_deleted_mail(tmp_path: Path, store: SQLiteStore) -> None:
    ids = [_send(store, f"order {n}") for n in range(4)]
    index_all(store)
    assert _total(store, "invoice") == 4
    store.delete_messages([ids[0], ids[-1]])
    assert _total(store, "invoice") == 2 == _afresh(tmp_path, store, "invoice")


def test_total_follows_tags_and_read_flags(store: SQLiteStore) -> None:
    ids = [_send(store, f"order {n}") for n in range(3)]
    index_all(store)
    assert _total(store, "invoice tag:paid") == 0
    assert _total(store, "invoice is:read") == 0
    store.add_tags(ids[:2], ["paid"])
    store.set_read(ids[2], True)
    assert _total(store, "invoice tag:paid") == 2
    assert _total(store, "invoice is:read") == 1


def test_total_drops_mail_pruned_by_the_message_cap(tmp_path: Path) -> None:
    capped = SQLiteStore(tmp_path / "capped.db", max_messages=3)
    try:
        for n in range(3):
            _send(capped, f"order {n}")
        index_all(capped)
        assert _total(capped, "invoice") == 3
        for n in range(2):
            _send(capped, f"more {n}")  # each prunes the oldest
        index_all(capped)
        assert _total(capped, "invoice") == 3
    finally:
        capped.close()


def test_total_of_a_search_newer_than_an_id_is_counted_afresh(store: SQLiteStore) -> None:
    ids = [_send(store, f"order {n}") for n in range(3)]
    index_all(store)
    assert _total(store, "invoice") == 3
    assert store.count_messages(parse_query("invoice"), after=ids[0]) == 2

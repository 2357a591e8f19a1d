"""Search through the API and the index: query= on the routes, bad queries, search rows.

What each query matches is the table of tests/test_search_language.py (over the Store).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from mailtrap_lite.store import Store
from mailtrap_lite.store.fields import FIELDS, FLAGS
from mailtrap_lite.store.indexer import Indexer, index_one
from mailtrap_lite.store.query import MAX_NESTING, Or, Query, parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.store.sqlite.search import FLAG_SQL, TERM_SQL
from tests.apiserver import Served, index_all, make_message, store_message, stored_app, until
from tests.searchcorpus import CORPUS, fill


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    store = SQLiteStore()
    fill(store)
    yield stored_app(store).test_client()
    store.close()


def subjects(client: FlaskClient, route: str = "/api/v1/messages", **params: str) -> list[str]:
    reply = client.get(route, query_string=params)
    assert reply.status_code == 200, reply.json
    assert reply.json is not None
    return [m["subject"] for m in reply.json["messages"]]


def test_query_parameter_searches_the_list(client: FlaskClient) -> None:
    found = subjects(client, query="(invoice OR receipt) from:example.com")
    assert found == ["Invoice May"]


def test_inbox_parameter_and_query_combine(client: FlaskClient) -> None:
    reply = client.get("/api/v1/messages", query_string={"query": "meeting", "inbox": "default"})
    assert reply.json == {"total": 0, "messages": []}


def test_wait_takes_the_search_language(client: FlaskClient) -> None:
    found = subjects(client, "/api/v1/wait", query="filename:pdf OR koln", count="3", timeout="0")
    assert found == ["Receipt for payment 77", "Invoice May", "Grüße aus Köln"]


def test_delete_matching_takes_the_search_language() -> None:
    store = SQLiteStore()
    try:
        fill(store)
        reply = (
            stored_app(store)
            .test_client()
            .delete(
                "/api/v1/messages",
                query_string={"query": "from:*.shop.example OR from:shop.example"},
            )
        )
        assert reply.json == {"deleted": 2}
        assert store.count_messages() == len(CORPUS) - 2
    finally:
        store.close()


# query -> (a part of the error, the position it names)
BAD = [
    ("before:not-a-date", "bad date 'not-a-date' in 'before:not-a-date'", 1),
    ("after:2024-13-45", "bad date '2024-13-45'", 1),
    ("larger:big", "bad size 'big'", 1),
    ("larger:99999999999999999999999K", "size out of range", 1),
    ("smaller:", "smaller: needs a value", 1),
    ("is:maybe", "unknown value 'maybe' in 'is:maybe'", 1),
    ("has:wings", "expected has:attachment", 1),
    ('subject:"unterminated', "unterminated quote at position 9", 9),
    ("order foo:bar", "unknown filter 'foo:' in 'foo:bar' at position 7", 7),
    ("order -", "nothing to negate", 7),
    ("order - x", "nothing to negate", 7),
    ("to:", "to: needs a value", 1),
    ("header:=x", "header: needs a name", 1),
    ('""', "empty phrase", 1),
    ("abc\x00def", "NUL character at position 4", 4),
    ("invoice OR", "OR needs a term after it", 9),
    ("OR invoice", "OR needs a term before it", 1),
    ("invoice OR OR receipt", "OR needs a term after it", 9),
    ("invoice AND", "AND needs a term on each side", 9),
    ("(invoice OR receipt", "unclosed '('", 1),
    ("invoice) receipt", "unmatched ')'", 8),
    ("koln ()", "empty parentheses", 6),
    ("filename:a*.pdf", "'*' inside a file name", 1),
    ("x " + "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1),
     f"parentheses nested deeper than {MAX_NESTING}", 3 + MAX_NESTING),
]  # fmt: skip


@pytest.mark.parametrize(("query", "pointer", "position"), BAD, ids=[b[0][:40] for b in BAD])
def test_bad_query_is_400_saying_where_it_failed(
    client: FlaskClient, query: str, pointer: str, position: int
) -> None:
    reply = client.get("/api/v1/messages", query_string={"query": query})
    assert reply.status_code == 400
    assert reply.json is not None and pointer in reply.json["error"]
    assert reply.json["position"] == position
    assert f"at position {position}" in reply.json["error"]


def test_query_too_large_for_the_database_is_400_not_500(client: FlaskClient) -> None:
    query = "from:*" + "a" * 60_000 + "*"  # SQLite takes GLOB patterns of up to 50,000 bytes
    reply = client.get("/api/v1/messages", query_string={"query": query})
    assert reply.status_code == 400
    assert reply.json is not None and "too large to run" in reply.json["error"]


def test_long_query_tree_within_the_database_limits_runs_on_the_store() -> None:
    """The parser takes at most MAX_TERMS terms (querycost); a Store runs a longer tree."""
    words = ["koln", *(f"nothing{n}" for n in range(500)), "to:x@y", "ab"]
    tree = Query(Or(tuple(node for word in words if (node := parse_query(word).root))))
    store = SQLiteStore()
    try:
        fill(store)
        assert [m.subject for m in store.list_messages(query=tree).messages] == ["Grüße aus Köln"]
    finally:
        store.close()


def test_message_is_found_by_address_once_indexed_and_not_before() -> None:
    store = SQLiteStore()
    try:
        store_message(store, CORPUS["order"][0], rcpt_to=["late@example.com"])
        client = stored_app(store).test_client()
        query = {"query": "to:late@example.com"}
        before = client.get("/api/v1/messages", query_string=query).json
        Indexer(store).run_once()
        after = client.get("/api/v1/messages", query_string=query).json
        assert before is not None and before["total"] == 0  # search rows come from the indexer
        assert after is not None and after["total"] == 1
    finally:
        store.close()


def search_rows(store: Store) -> list[int]:
    """Count the rows of the search tables (storage must not leak: look at them)."""
    tables = ("message_text", "message_addresses", "message_headers", "search_gone")
    with sqlite3.connect(store.path) as db:
        found = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]
        # FTS5 raises if its index and its external content table disagree.
        db.execute("INSERT INTO message_fts (message_fts, rank) VALUES ('integrity-check', 1)")
    db.close()
    return found


@pytest.fixture
def store() -> Iterator[Store]:
    opened = SQLiteStore()
    yield opened
    opened.close()


def test_deleted_message_matches_nothing_before_its_rows_are_purged(store: Store) -> None:
    kept, gone = (store_message(store, CORPUS["order"][0]) for _ in range(2))
    index_all(store)
    store.delete_messages([gone])
    for query in (
        "order",
        "to:ann@example.com",
        "to:example.com",
        "header:X-Campaign=spring-sale",
        "order OR to:nobody@example.com",
    ):
        page = store.list_messages(query=parse_query(query))
        assert (page.total, [m.id for m in page.messages]) == (1, [kept]), query


def test_purge_removes_the_search_rows_of_deleted_messages(store: Store) -> None:
    kept, gone = (store_message(store, CORPUS["order"][0]) for _ in range(2))
    index_all(store)
    before = search_rows(store)
    store.delete_messages([gone])
    assert store.purge_search() == 1 and store.purge_search() == 0
    assert search_rows(store) == [before[0] - 1, before[1] // 2, before[2] // 2, 0]
    assert store.list_messages(query=parse_query("order")).total == 1 and kept


def test_purge_after_clearing_everything_empties_the_search_tables(store: Store) -> None:
    for _ in range(3):
        store_message(store, CORPUS["koeln"][0])
    index_all(store)
    store.clear()
    assert store.purge_search() == 3
    assert search_rows(store) == [0, 0, 0, 0]


def test_running_indexer_purges_deleted_messages(served: Served) -> None:
    served.send(make_message("bye", "soon gone\n"))
    until(lambda: served.get("/api/v1/health").json()["unindexed"] == 0)
    served.request("DELETE", "/api/v1/messages", {"all": "true"})
    served.send(make_message("wake the indexer"))
    until(lambda: search_rows(served.store)[0] == 1 and search_rows(served.store)[3] == 0)


def test_every_filter_and_flag_has_its_sql() -> None:
    assert {"text", *FIELDS} == set(TERM_SQL)
    assert {(name, value) for name, values in FLAGS.items() for value in values} == set(FLAG_SQL)


def test_indexed_text_stays_within_its_limit_when_folding_lengthens_it() -> None:
    update = index_one(1, make_message("s", "ß" * 600).as_bytes(), 1000)
    assert update.text == "ss" * 500

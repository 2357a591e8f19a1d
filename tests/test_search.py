"""The search language through GET /api/v1/messages?query=: a table of queries and matches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from flask.testing import FlaskClient

from mailtrap_lite.store import Store
from mailtrap_lite.store.indexer import Indexer
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, index_all, make_message, store_message, stored_app, until

ALL = {"order", "news", "koeln", "invoice", "short", "team"}


def _order() -> EmailMessage:
    msg = make_message(
        "Your order #1042 has shipped",
        "Thanks for your order. Track it at https://shop.example.com/t/1042\n",
        From="Shop <shop@example.com>",
        To="ann@example.com",
        X_Campaign="spring-sale",
    )
    return msg


def _invoice() -> EmailMessage:
    msg = make_message("Invoice May", "Please find the invoice attached.\n", To="ann@example.com")
    msg.add_attachment(bytes(range(256)) * 12, maintype="application", subtype="pdf",
                       filename="invoice.pdf")  # fmt: skip
    return msg


KOELN = (
    b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n"
    b"To: ann@example.net\r\nCc: Carol@Example.com\r\n"
    b"Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
    b"X-Campaign: summer sale\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHallo zusammen\r\n"
)

# key: (raw message, envelope sender, envelope recipients, received_at, inbox)
CORPUS = {
    "order": (_order().as_bytes(), "bounce@shop.example.com",
              ["ann@example.com", "audit@example.com"], "2024-05-01T09:00:00.000Z", "default"),
    "news": (make_message("Weekly news", "Straße café naïve ÜBER\n", From="news@example.org",
                          To="ba@example.com").as_bytes(),
             "news@example.org", ["ba@example.com"], "2024-05-02T23:59:59.999Z", "default"),
    "koeln": (KOELN, "joerg@example.de", ["ann@example.net", "carol@example.com"],
              "2024-05-03T00:00:00.000Z", "default"),
    "invoice": (_invoice().as_bytes(), "billing@example.com", ["ann@example.com"],
                "2024-06-01T10:00:00.000Z", "default"),
    "short": (make_message("ok", "xy z\n", From="short@x.io", To="tiny@x.io").as_bytes(),
              "short@x.io", ["tiny@x.io"], "2024-06-15T10:00:00.000Z", "default"),
    "team": (make_message("Team update", "meeting at noon\n", From="lead@example.com",
                          To="bob@example.com").as_bytes(),
             "lead@example.com", ["bob@example.com"], "2024-06-20T10:00:00.000Z", "team"),
}  # fmt: skip


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    store = SQLiteStore()
    ids = {}
    for key, (raw, sender, rcpt, when, inbox) in CORPUS.items():
        ids[key] = store_message(store, raw, sender, rcpt, when, inbox)
    store.set_read(ids["news"], True)
    index_all(store)
    yield stored_app(store).test_client()
    store.close()


def matches(client: FlaskClient, query: str) -> set[str]:
    reply = client.get("/api/v1/messages", query_string={"query": query})
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body is not None and body["total"] == len(body["messages"])
    subjects = {m["subject"] for m in body["messages"]}
    return {key for key in CORPUS if _subject(key) in subjects}


def _subject(key: str) -> str:
    return {"order": "Your order #1042 has shipped", "news": "Weekly news",
            "koeln": "Grüße aus Köln", "invoice": "Invoice May", "short": "ok",
            "team": "Team update"}[key]  # fmt: skip


CASES = [
    ("order", {"order"}),
    ("ORDER", {"order"}),
    ("ipped", {"order"}),
    ('"order #1042"', {"order"}),
    ('"track it at"', {"order"}),
    ("thanks", {"order"}),
    ("subject:order", {"order"}),
    ("subject:thanks", set()),
    ('subject:"weekly news"', {"news"}),
    ("to:ann@example.com", {"order", "invoice"}),
    ("to:a@example.com", set()),
    ("to:ba@example.com", {"news"}),
    ("to:BA@Example.COM", {"news"}),
    ("to:<ba@example.com>", {"news"}),
    ('to:"Bee <ba@example.com>"', {"news"}),
    ("to:audit@example.com", {"order"}),
    ("bcc:audit@example.com", {"order"}),
    ("bcc:ann@example.com", set()),
    ("from:shop@example.com", {"order"}),
    ("from:bounce@shop.example.com", {"order"}),
    ("from:example.com", set()),
    ("cc:carol@example.com", {"koeln"}),
    ("-cc:carol@example.com", ALL - {"koeln"}),
    ("subject:grüße", {"koeln"}),
    ("KÖLN", {"koeln"}),
    ("jörg", {"koeln"}),
    ("über", {"news"}),
    ("straße", {"news"}),
    ("é", {"news"}),
    ("xy", {"short"}),
    ("subject:ok", {"short"}),
    ("ann@example.com", {"order", "invoice"}),
    ("header:X-Campaign=spring-sale", {"order"}),
    ("header:x-campaign=spring", set()),
    ('header:X-Campaign="summer sale"', {"koeln"}),
    ('header:"X-Campaign=summer sale"', {"koeln"}),
    ("header:X-Campaign", {"order", "koeln"}),
    ("-header:X-Campaign", ALL - {"order", "koeln"}),
    ("is:read", {"news"}),
    ("is:unread", ALL - {"news"}),
    ("has:attachment", {"invoice"}),
    ("-has:attachment", ALL - {"invoice"}),
    ("after:2024-05-03", {"koeln", "invoice", "short", "team"}),
    ("before:2024-05-03", {"order", "news"}),
    ("after:2024-05-01 before:2024-05-02", {"order"}),
    ("after:2024-05-02T23:59:59Z", {"news", "koeln", "invoice", "short", "team"}),
    ("larger:2K", {"invoice"}),
    ("smaller:2k", ALL - {"invoice"}),
    ("larger:1M", set()),
    ("inbox:team", {"team"}),
    ("-inbox:team", ALL - {"team"}),
    ("-order", ALL - {"order"}),
    ("order to:ann@example.com -has:attachment", {"order"}),
    ("invoice -is:read", {"invoice"}),
    ("https://shop.example.com/t/1042", {"order"}),
    ("noon meeting", {"team"}),
    ("noon -meeting", set()),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_query_matches_expected_messages(client: FlaskClient, query: str, expected: set[str]):
    assert matches(client, query) == expected


def test_empty_query_lists_every_message(client: FlaskClient) -> None:
    assert matches(client, "") == ALL


def test_inbox_parameter_and_query_combine(client: FlaskClient) -> None:
    reply = client.get("/api/v1/messages", query_string={"query": "meeting", "inbox": "default"})
    assert reply.json == {"total": 0, "messages": []}


BAD = [
    ("before:not-a-date", "before:not-a-date"),
    ("after:2024-13-45", "after:2024-13-45"),
    ("larger:big", "larger:big"),
    ("smaller:", "smaller: needs a value"),
    ("is:maybe", "is:maybe"),
    ("has:wings", "has:wings"),
    ('subject:"unterminated', "unterminated quote at position 9"),
    ("order foo:bar", "'foo:' in 'foo:bar' (position 7)"),
    ("order -", "nothing to negate"),
    ("to:", "to: needs a value"),
    ("header:=x", "header: needs a name"),
    ('""', "empty phrase"),
    ("abc\x00def", "NUL character at position 4"),
]


@pytest.mark.parametrize(("query", "pointer"), BAD)
def test_bad_query_is_400_naming_the_offending_part(client: FlaskClient, query: str, pointer: str):
    reply = client.get("/api/v1/messages", query_string={"query": query})
    assert reply.status_code == 400
    assert reply.json is not None and pointer in reply.json["error"]


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
    for query in ("order", "to:ann@example.com", "header:X-Campaign=spring-sale"):
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

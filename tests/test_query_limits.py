"""Searches have a cost limit (terms) and a time limit, and never hold up SMTP."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.store.query import QueryError, parse_query
from mailtrap_lite.store.querycost import MAX_TERMS
from mailtrap_lite.testing import Sink
from mailtrap_lite.web.context import EXTENSION
from tests.apiserver import Reply, Served, index_all, make_message, store_message, until
from tests.wire import greet

MakeServed = Callable[..., Served]
BODY = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 16 + "\r\n") * 110


def fill(served: Served, count: int, body: str = "lorem ipsum dolor\r\n") -> None:
    """Store `count` messages straight into the Store and index them."""
    for n in range(count):
        store_message(served.store, f"Subject: filler {n}\r\n\r\n{body}".encode())
    index_all(served.store)


def heavy_query(terms: int = MAX_TERMS) -> str:
    """Return a query of `terms` terms that matches every filler: its short negated words are
    each looked for in every message's text, without the index."""
    return " ".join(["subject:filler", *(f"-z{chr(97 + n)}" for n in range(terms - 1))])


def messages(served: Served, method: str, query: str) -> Reply:
    return served.request(method, "/api/v1/messages?" + urlencode({"query": query}))


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_search_over_the_term_cap_is_400_and_runs_nothing(served: Served, method: str) -> None:
    fill(served, 3)
    reply = messages(served, method, heavy_query(MAX_TERMS + 1))
    assert reply.status == 400
    assert f"at most {MAX_TERMS} terms, this one has {MAX_TERMS + 1}" in reply.json()["error"]
    assert served.get("/api/v1/messages").json()["total"] == 3


def test_a_search_over_the_term_cap_points_at_the_first_term_past_it(served: Served) -> None:
    query = "(invoice OR receipt) " + heavy_query(MAX_TERMS)  # 22 terms, in parentheses too
    reply = messages(served, "GET", query)
    assert reply.status == 400
    terms = [word.strip("-()") for word in query.split() if word != "OR"]
    first_past = terms[MAX_TERMS]
    assert reply.json()["position"] == query.index(first_past) + 1


def test_the_term_cap_counts_terms_in_every_group() -> None:
    nested = " OR ".join(f"(a{n} b{n})" for n in range(MAX_TERMS // 2))
    assert parse_query(nested)  # exactly MAX_TERMS terms
    with pytest.raises(QueryError, match=f"at most {MAX_TERMS} terms, this one has"):
        parse_query(nested + " -(c)")


def test_the_inbox_page_says_a_search_is_too_large(served: Served) -> None:
    reply = served.get("/", query=heavy_query(MAX_TERMS + 1))
    assert reply.status == 400
    assert f"at most {MAX_TERMS} terms".encode() in reply.body


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_search_past_the_time_limit_is_503_and_changes_nothing(
    make_served: MakeServed, method: str
) -> None:
    served = make_served(query_timeout=0.001)
    fill(served, 100)
    reply = messages(served, method, heavy_query())
    assert reply.status == 503
    assert "ran longer than 0.001 s and was stopped" in reply.json()["error"]
    assert served.get("/api/v1/messages", limit=1).json()["total"] == 100  # cheap: not stopped


def test_the_inbox_page_says_a_search_was_stopped(make_served: MakeServed) -> None:
    served = make_served(query_timeout=0.001)
    fill(served, 100)
    reply = served.get("/", query=heavy_query())
    assert reply.status == 503
    assert b"ran longer than 0.001 s" in reply.body


def test_mail_is_committed_while_a_deletion_searches(served: Served) -> None:
    fill(served, 150, BODY)  # 15 MB of text: each short negated word scans all of it
    kinds: list[str] = []
    served.store.feed.subscribe(lambda change: kinds.append(change.kind))
    with greet(served.sink.host, served.sink.port) as wire:
        wire.cmd("MAIL FROM:<a@example.com>")
        wire.cmd("RCPT TO:<b@example.com>")
        assert wire.cmd("DATA").code == 354
        wire.send(make_message("during the delete").as_bytes().replace(b"\n", b"\r\n"))
        replies: list[Reply] = []
        deleting = threading.Thread(target=lambda: replies.append(
            messages(served, "DELETE", heavy_query())))  # fmt: skip
        deleting.start()
        time.sleep(0.1)  # set-up only: let the deletion's search begin
        assert wire.cmd(".").code == 250
        deleting.join()
    # committed while the search ran, before the first deletion; had the search held the
    # writer, the message would have waited for the deletion to commit
    assert kinds.index("message") < kinds.index("deleted")
    assert replies[0].json() == {"deleted": 150}
    [kept] = served.get("/api/v1/messages").json()["messages"]
    assert kept["subject"] == "during the delete"


def test_a_large_deletion_is_committed_in_batches(served: Served) -> None:
    fill(served, 450)
    changes: list[Any] = []
    served.store.feed.subscribe(lambda change: changes.append(change))
    assert served.request("DELETE", "/api/v1/messages", {"all": "true"}).json() == {
        "deleted": 450
    }
    sizes = [len(change.ids) for change in changes if change.kind == "deleted"]
    assert sizes == [200, 200, 50]


def compat_sink(**settings: Any) -> Sink:
    local = Address("127.0.0.1", 0)
    config = Config(smtp=local).replace(**settings)
    return Sink(config, http=local, mailpit_http=local, mailhog_http=local).start()


def plain_get(base: str, path: str, **params: str) -> Reply:
    """GET a compatible listener's route; the reply as the test harness reads it."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + path + "?" + urlencode(params))
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def compat_searches(sink: Sink) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (sink.mailpit_url or "", "/api/v1/search", {"query": heavy_query()}),
        (sink.mailhog_url or "", "/api/v2/search", {"kind": "containing", "query": "zz"}),
        (sink.web_url or "", "/compat/mailpit/api/v1/search", {"query": heavy_query()}),
    ]


def test_compatible_searches_past_the_time_limit_are_503_in_plain_text() -> None:
    sink = compat_sink(query_timeout=0.001)
    try:
        for n in range(200):
            store_message(sink.store, f"Subject: filler {n}\r\n\r\n{BODY}".encode())
        index_all(sink.store)
        for base, path, params in compat_searches(sink):
            reply = plain_get(base, path, **params)
            assert reply.status == 503, (path, reply.body[:200])
            assert reply.headers["Content-Type"].startswith("text/plain")
            assert b"ran longer than 0.001 s and was stopped" in reply.body
    finally:
        sink.stop()


def test_compatible_searches_count_against_the_one_search_cap() -> None:
    sink = compat_sink(http_max_searches=1)
    try:
        store_message(sink.store, b"Subject: filler 1\r\n\r\nlorem zz\r\n")
        index_all(sink.store)
        context = sink.app.web.app.extensions[EXTENSION]  # the main listener's
        give_back = context.searches.take()  # the only place, taken
        for base, path, params in compat_searches(sink):
            reply = plain_get(base, path, **params)
            assert reply.status == 503, path
            assert reply.headers["Retry-After"] == "1"
            assert b"too many searches at once (at most 1)" in reply.body
        give_back()
        for base, path, params in compat_searches(sink):
            assert plain_get(base, path, **params).status == 200, path
    finally:
        sink.stop()


def test_an_export_holds_a_search_place_until_its_download_ends(make_served: MakeServed) -> None:
    served = make_served(http_max_searches=1)
    fill(served, 3)
    gate = served.sink.app.web.app.extensions[EXTENSION].searches
    give_back = gate.take()  # the only place, taken
    reply = served.get("/api/v1/export")
    assert reply.status == 503 and reply.headers["Retry-After"] == "1"
    give_back()
    reply = served.get("/api/v1/export")
    assert reply.status == 200 and reply.body.count(b"Subject: filler") == 3
    assert until(lambda: gate.taken() == 0)  # given back once the download was sent

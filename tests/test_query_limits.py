"""Searches have a cost limit (terms) and a time limit, and never hold up SMTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from mailtrap_lite.store.querycost import MAX_TERMS
from tests.apiserver import Reply, Served, index_all, make_message, store_message
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

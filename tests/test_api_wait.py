"""GET /api/v1/wait over a real server: blocking on the change feed, count, after, timeouts, cap."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.apiserver import Reply, Served, make_message, store_message, until


def later(delay: float, action: Callable[[], Any]) -> threading.Thread:
    """Run `action` on another thread after `delay` seconds."""

    def run() -> None:
        time.sleep(delay)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_wait_returns_as_soon_as_a_message_arrives(served: Served) -> None:
    sender = later(0.3, lambda: served.send(make_message("arrived")))
    started = time.monotonic()
    reply = served.get("/api/v1/wait", timeout=10)
    elapsed = time.monotonic() - started
    sender.join()
    assert reply.status == 200
    assert [m["subject"] for m in reply.json()["messages"]] == ["arrived"]
    assert 0.25 <= elapsed < 5


def test_wait_counts_stored_messages_without_after(served: Served) -> None:
    served.send(make_message("stored"))
    reply = served.get("/api/v1/wait", timeout=0)
    assert reply.status == 200 and reply.json()["messages"][0]["subject"] == "stored"


def test_wait_after_an_id_ignores_older_messages(served: Served) -> None:
    served.send(make_message("old"))
    [old] = until(lambda: served.get("/api/v1/messages").json()["messages"])
    assert served.get("/api/v1/wait", after=old["id"], timeout=0).status == 408
    sender = later(0.2, lambda: served.send(make_message("new")))
    reply = served.get("/api/v1/wait", after=old["id"], timeout=10)
    sender.join()
    assert [m["subject"] for m in reply.json()["messages"]] == ["new"]


def test_wait_times_out_with_408(served: Served) -> None:
    started = time.monotonic()
    reply = served.get("/api/v1/wait", timeout=0.3)
    assert reply.status == 408
    assert "timed out" in reply.json()["error"]
    assert time.monotonic() - started >= 0.3


def test_wait_for_count_3_returns_when_the_third_arrives(served: Served) -> None:
    def send_three() -> None:
        for i in range(3):
            served.send(make_message(f"n{i}"))
            time.sleep(0.1)

    sender = later(0.1, send_three)
    reply = served.get("/api/v1/wait", count=3, timeout=10)
    sender.join()
    assert reply.status == 200
    assert [m["subject"] for m in reply.json()["messages"]] == ["n2", "n1", "n0"]


def test_wait_with_a_query_returns_only_matches(served: Served) -> None:
    served.send(make_message("other"), to=["someone@example.com"])
    sender = later(0.2, lambda: served.send(make_message("for ann"), to=["ann@example.com"]))
    reply = served.get("/api/v1/wait", query="to:ann@example.com", timeout=10)
    sender.join()
    assert [m["subject"] for m in reply.json()["messages"]] == ["for ann"]


def test_wait_on_a_body_word_wakes_when_the_body_is_indexed(served: Served) -> None:
    sender = later(0.2, lambda: served.send(make_message("code", "your code is zebra-7731\n")))
    reply = served.get("/api/v1/wait", query="zebra-7731", timeout=10)
    sender.join()
    assert reply.status == 200 and reply.json()["messages"][0]["subject"] == "code"


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"timeout": 301}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": "nan"}, "timeout"),
        ({"count": 0}, "count"),
        ({"count": "x"}, "count"),
        ({"after": "x"}, "after"),
        ({"query": "before:yesterday"}, "before:yesterday"),
    ],
)
def test_bad_wait_parameters_are_400(served: Served, params: dict[str, Any], pointer: str):
    reply = served.get("/api/v1/wait", **params)
    assert reply.status == 400 and pointer in reply.json()["error"]


def test_waits_past_the_cap_get_503(make_served: Any) -> None:
    served: Served = make_served(http_max_waits=2)
    replies: list[Reply] = []
    waiters = [later(0, lambda: replies.append(served.get("/api/v1/wait", timeout=10)))
               for _ in range(2)]  # fmt: skip
    until(lambda: served.get("/api/v1/health").json()["live_connections"] == 2)
    refused = served.get("/api/v1/wait", timeout=10)
    assert refused.status == 503 and "too many" in refused.json()["error"]
    served.send(make_message("release"))
    for waiter in waiters:
        waiter.join(10)
    assert [r.status for r in replies] == [200, 200]
    assert served.get("/api/v1/health").json()["live_connections"] == 0


def test_stopping_the_server_ends_open_waits(make_served: Any) -> None:
    served: Served = make_served()
    replies: list[Reply] = []
    waiter = later(0, lambda: replies.append(served.get("/api/v1/wait", timeout=60)))
    until(lambda: served.get("/api/v1/health").json()["live_connections"] == 1)
    started = time.monotonic()
    served.stop()
    waiter.join(10)
    assert time.monotonic() - started < 5
    assert [r.status for r in replies] == [503]


def test_requests_stay_fast_with_50_waits_and_4_streams_open(served: Served) -> None:
    replies: list[Reply] = []
    waiters = [later(0, lambda: replies.append(served.get("/api/v1/wait", timeout=60)))
               for _ in range(50)]  # fmt: skip
    streams = [served.connect() for _ in range(4)]
    for conn in streams:
        conn.request("GET", "/api/v1/events")
        assert conn.getresponse().status == 200
    until(lambda: served.get("/api/v1/health").json()["live_connections"] == 54, timeout=20)
    timings = []
    for _ in range(20):
        started = time.monotonic()
        assert served.get("/api/v1/messages").status == 200
        timings.append(time.monotonic() - started)
    served.send(make_message("wake everyone"))
    for waiter in waiters:
        waiter.join(20)
    for conn in streams:
        conn.close()
    assert [r.status for r in replies] == [200] * 50
    # Generous bounds for a shared 2-core machine; typical is a few milliseconds.
    assert statistics.median(timings) < 0.1 and max(timings) < 1.0


def test_wait_limit_returns_only_the_newest_matches(served: Served) -> None:
    for i in range(3):
        served.send(make_message(f"m{i}"))
    reply = served.get("/api/v1/wait", count=3, limit=2, timeout=5)
    assert [m["subject"] for m in reply.json()["messages"]] == ["m2", "m1"]


def test_wait_returns_at_most_limit_matches_like_the_lists(served: Served) -> None:
    for i in range(60):
        store_message(served.store, make_message(f"m{i}").as_bytes())
    reply = served.get("/api/v1/wait", timeout=0)
    assert (reply.json()["total"], len(reply.json()["messages"])) == (60, 50)
    assert len(served.get("/api/v1/wait", timeout=0, limit=1000).json()["messages"]) == 60
    assert served.get("/api/v1/wait", timeout=0, limit=1001).status == 400


def test_body_words_are_searchable_within_a_second_of_the_250(served: Served) -> None:
    served.send(make_message("fresh", "the parcel code is quokka-55\n"))
    reply = served.get("/api/v1/wait", query="quokka-55", timeout=1)
    assert reply.status == 200

"""The web server cannot be starved: idle sockets are dropped, searches are capped."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from werkzeug.exceptions import ServiceUnavailable

from mailtrap_lite.web.limits import Gate
from tests.apiserver import Served, index_all, store_message

MakeServed = Callable[..., Served]
BODY = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 16 + "\r\n") * 20
SEARCH = " ".join(["subject:filler", *(f"-z{chr(97 + n)}" for n in range(19))])


@contextmanager
def idle_sockets(served: Served, count: int) -> Iterator[list[socket.socket]]:
    """Open `count` web connections that say nothing, or half a request, and hang on."""
    opened = [socket.create_connection((served.host, served.port), timeout=10)
              for _ in range(count)]  # fmt: skip
    try:
        for n, sock in enumerate(opened):
            if n % 2:
                sock.sendall(b"GET /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        yield opened
    finally:
        for sock in opened:
            sock.close()


def timed_status(served: Served, path: str, timeout: float = 30.0) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection(served.host, served.port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def test_health_and_a_page_answer_beside_100_idle_sockets_and_70_searches(
    served: Served,
) -> None:
    for n in range(100):
        store_message(served.store, f"Subject: filler {n}\r\n\r\n{BODY}".encode())
    index_all(served.store)
    statuses: Counter[int] = Counter()
    path = "/api/v1/messages?" + urlencode({"query": SEARCH})
    searches = [threading.Thread(target=lambda: statuses.update([timed_status(served, path)[0]]))
                for _ in range(70)]  # fmt: skip
    with idle_sockets(served, 100):
        for thread in searches:
            thread.start()
        answers = [timed_status(served, p, timeout=2.0) for p in ("/api/v1/health", "/messages/1")]
        for thread in searches:
            thread.join()
    assert [status for status, _ in answers] == [200, 200]
    assert max(seconds for _, seconds in answers) < 2.0
    assert set(statuses) <= {200, 503} and sum(statuses.values()) == 70


def test_an_idle_or_half_sent_connection_is_closed(make_served: MakeServed) -> None:
    served = make_served(http_idle_timeout=1.0)
    with idle_sockets(served, 2) as (silent, half_sent):
        for sock in (silent, half_sent):
            sock.settimeout(30)
            assert sock.recv(1024) == b""  # closed by the server, not by our timeout


def test_searches_past_the_cap_get_503_with_retry_after() -> None:
    gate = Gate(1, "searches")
    with gate.admitted():
        with pytest.raises(ServiceUnavailable) as refused:
            with gate.admitted():
                pass
    assert "too many searches at once (at most 1)" in str(refused.value.description)
    assert refused.value.retry_after == 1
    with gate.admitted():  # the place is free again
        assert gate.taken() == 1

"""The message page shows each part up to a bound, says what it cut, and stays small in memory."""

from __future__ import annotations

import http.client
import json
import re
import smtplib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import bombs
from tests.apiserver import Served, make_message, until
from tests.process import ServerProcess

Launch = Callable[..., ServerProcess]
MIB = 1024 * 1024
VIEWS = 4
GROWTH_LIMIT = 300 * MIB  # the server's peak RSS over its RSS before the views


def delivered(served: Served, raw: bytes) -> str:
    served.send(raw)
    [summary] = until(lambda: served.get("/api/v1/messages").json()["messages"])
    return str(summary["id"])


def test_a_long_text_is_shown_cut_and_says_so(served: Served) -> None:
    message_id = delivered(served, make_message("long", "x" * 400_000 + "\n").as_bytes())
    page = served.get(f"/messages/{message_id}").body
    assert b"x" * 262_144 in page and b"x" * 262_145 not in page
    assert re.search(rb"Only the first 262144 of 40000\d characters are shown", page)


def test_many_headers_are_shown_cut_and_say_so(served: Served) -> None:
    message_id = delivered(served, bombs.many_headers(1500))
    page = served.get(f"/messages/{message_id}").body
    assert page.count(b'<th scope="row">X-H') == 997  # 1,000 fields: From, To, Subject first
    assert b"Only the first 1000 of 1503 header fields are shown" in page


def test_a_long_html_body_is_shown_cut_in_its_frame_and_says_so(served: Served) -> None:
    message = make_message("html")
    message.add_alternative("<p>" + "y" * 1_500_000 + "</p>", subtype="html")
    message_id = delivered(served, message.as_bytes())
    frame = served.get(f"/messages/{message_id}/body.html").body
    assert len(frame) < 1_100_000
    assert re.search(rb"Only the first 1048576 of 150000\d characters of this HTML", frame)


def get(url: str, path: str) -> tuple[int, int]:
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=300)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {key} for {pid}")


def indexed(url: str) -> bool:
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    try:
        connection.request("GET", "/api/v1/health")
        return json.loads(connection.getresponse().read())["unindexed"] == 0
    finally:
        connection.close()


@pytest.mark.parametrize("build", [lambda: bombs.many_headers(2_000_000),
                                   lambda: bombs.one_line(30_000_000)],
                         ids=["2M-headers", "30MB-line"])  # fmt: skip
def test_four_views_at_once_of_a_bomb_grow_the_server_less_than_300_mib(
    launch: Launch, tmp_path: Path, build: Callable[[], bytes]
) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0",
                    "--db", str(tmp_path / "mail.db"))  # fmt: skip
    url, pid = server.info["http"], server.proc.pid
    with smtplib.SMTP(*server.smtp, timeout=300) as client:
        client.sendmail("bomb@example.com", ["dev@example.com"], build())
    until(lambda: indexed(url), timeout=120)
    clear_refs = Path(f"/proc/{pid}/clear_refs")
    clear_refs.write_text("5")  # the peak (VmHWM) starts again from the RSS of now
    before = status_mib(pid, "VmRSS")
    results: list[tuple[int, int]] = []
    views = [threading.Thread(target=lambda: results.append(get(url, "/messages/1")))
             for _ in range(VIEWS)]  # fmt: skip
    started = time.monotonic()
    for view in views:
        view.start()
    for view in views:
        view.join()
    growth = status_mib(pid, "VmHWM") - before
    seen = f"4 views in {time.monotonic() - started:.1f} s, {results}, +{growth:.0f} MiB"
    assert [status for status, _ in results] == [200] * VIEWS, seen
    assert growth * MIB < GROWTH_LIMIT, seen

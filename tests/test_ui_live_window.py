"""The live list shows one unbroken stretch of the list at every moment, whatever happens
elsewhere: bursts from several connections, mail that matches a search once indexed,
deletions through the API. And the message page follows its message and the inbox counts.

Each check compares the page with the API at that moment: the rows are exactly the API's
page (the newest one, or the one below the rows kept when more arrived than a page holds),
the count is the API's total, "Older »" is there exactly when older matches exist, and the
"N new messages" bar counts exactly the matches newer than the rows.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.uikit import ARTIFACTS, UIServer, send_burst, text_message

PAGE = 50
WINDOW = """() => {
  const rows = [...document.querySelectorAll("#messages tbody tr.msg")];
  const older = document.getElementById("older");
  const bar = document.getElementById("new-bar");
  return {
    ids: rows.map((row) => Number(row.dataset.id)),
    total: document.getElementById("total").textContent.trim(),
    older: older.hidden ? null : older.getAttribute("href"),
    bar: bar.hidden ? null : bar.textContent.trim(),
    empty: !document.getElementById("empty").hidden,
  };
}"""


def api(url: str, path: str, method: str = "GET", **params: Any) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(url + path + query, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def mismatch(page, url: str, **filters: str) -> str | None:
    """Say how the page differs from the API's list right now (None: it does not)."""
    shown = page.evaluate(WINDOW)
    ids = shown["ids"]
    if len(set(ids)) != len(ids):
        return f"duplicate rows: {ids}"
    newer = 0
    if shown["bar"] is None:
        expected = api(url, "/api/v1/messages", limit=PAGE, **filters)
    else:
        top = max(ids, default=0)
        expected = api(url, "/api/v1/messages", limit=PAGE, before=top + 1, **filters)
        newer = api(url, "/api/v1/messages", limit=0, after=top, **filters)["total"]
        if shown["bar"] != f"{plural(newer, 'new message')} — show":
            return f"bar says {shown['bar']!r}, {newer} newer exist"
    wanted = [int(m["id"]) for m in expected["messages"]]
    total = expected["total"]
    below = total - newer - len(ids)
    problems = [
        ids != wanted and f"rows {ids} != API {wanted}",
        shown["total"] != plural(total, "message") and f"{shown['total']} != {total}",
        (shown["older"] is not None) != (below > 0) and f"older link {shown['older']}, {below}",
        shown["older"] and f"before={ids[-1]}" not in shown["older"] and "older link target",
        shown["empty"] != (not ids) and f"empty notice shown={shown['empty']} with {len(ids)}",
    ]
    return "; ".join(p for p in problems if p) or None


def eventually(check: Callable[[], str | None], timeout: float = 30.0) -> None:
    """Wait until check() finds nothing wrong; fail with what it found last."""
    deadline = time.monotonic() + timeout
    while (found := check()) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(found)
        time.sleep(0.1)


def settled(server: UIServer, total: int, **filters: str) -> None:
    """Wait until the API lists `total` matches and nothing is left to index."""

    def check() -> str | None:
        listed = api(server.url, "/api/v1/messages", limit=0, **filters)["total"]
        unindexed = api(server.url, "/api/v1/health")["unindexed"]
        return None if listed == total and unindexed == 0 else f"{listed} listed, {unindexed}"

    eventually(check, timeout=60)


def open_live(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    page.evaluate("window.sameDocument = true")


def show_newest(page, url: str, **filters: str) -> None:
    """Follow the bar, if the burst outran the page, and check the newest page is shown."""
    if page.locator("#new-bar").is_visible():
        page.locator("#new-bar button").click()
        expect(page.locator("#new-bar")).to_be_hidden()
    eventually(lambda: mismatch(page, url, **filters))
    newest = api(url, "/api/v1/messages", limit=PAGE, **filters)["messages"]
    assert page.evaluate(WINDOW)["ids"] == [int(m["id"]) for m in newest]
    assert page.evaluate("window.sameDocument") is True


def messages(prefix: str, count: int) -> list:
    return [text_message(f"{prefix} {n}", f"number {n}") for n in range(count)]


def test_search_page_counts_every_match_of_a_burst_from_four_connections(ui_server, page):
    url = ui_server.url
    open_live(page, url + "/?query=subject:Zephyr1")
    burst = messages("Zephyr1", 120) + messages("Other", 20)
    send_burst(ui_server.sink, burst[::2] + burst[1::2], connections=4)
    settled(ui_server, 120, query="subject:Zephyr1")
    eventually(lambda: mismatch(page, url, query="subject:Zephyr1"))
    show_newest(page, url, query="subject:Zephyr1")
    expect(page.locator("#total")).to_have_text("120 messages")
    expect(page.locator("#older")).to_be_visible()
    expect(page.locator("tr.msg a.subject", has_text="Other")).to_have_count(0)


@pytest.mark.parametrize(("before", "burst"), [(50, 70), (10, 200)])
def test_inbox_page_shows_no_gap_when_more_arrive_than_it_holds(ui_server, page, before, burst):
    url = ui_server.url
    send_burst(ui_server.sink, messages("Early", before), connections=4)
    settled(ui_server, before)
    open_live(page, url + "/?inbox=default")
    send_burst(ui_server.sink, messages("Burst", burst), connections=4)
    settled(ui_server, before + burst)
    eventually(lambda: mismatch(page, url, inbox="default"))
    if page.locator("#new-bar").is_visible():  # the page kept its place: its rows are intact
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"inbox-new-bar-{before}-{burst}.png"))
    show_newest(page, url, inbox="default")
    expect(page.locator("#total")).to_have_text(f"{before + burst} messages")
    shown = page.evaluate(WINDOW)["ids"]
    page.locator("#older").click()  # the next page goes on right below, no gap
    everything = api(url, "/api/v1/messages", limit=1000, inbox="default")["messages"]
    following = [int(m["id"]) for m in everything][PAGE : 2 * PAGE]
    expect(page.locator("tr.msg").first).to_have_attribute("data-id", str(following[0]))
    assert page.evaluate(WINDOW)["ids"] == following and shown[-1] > following[0]


def test_search_page_after_deleting_70_elsewhere_shows_the_remaining_20(ui_server, page):
    url = ui_server.url
    send_burst(ui_server.sink, messages("Keep", 90), connections=4)
    settled(ui_server, 90, query="subject:Keep")
    open_live(page, url + "/?query=subject:Keep")
    expect(page.locator("tr.msg")).to_have_count(PAGE)
    listed = api(url, "/api/v1/messages", limit=70, query="subject:Keep")["messages"]
    for message in listed:
        api(url, f"/api/v1/messages/{message['id']}", method="DELETE")
    expect(page.locator("#total")).to_have_text("20 messages")
    eventually(lambda: mismatch(page, url, query="subject:Keep"))
    expect(page.locator("tr.msg")).to_have_count(20)
    expect(page.locator("#older")).to_be_hidden()
    expect(page.locator("#empty")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True


def test_deleting_everything_elsewhere_empties_the_page_and_its_pager(ui_server, page):
    url = ui_server.url
    send_burst(ui_server.sink, messages("Doomed", 60), connections=4)
    settled(ui_server, 60)
    open_live(page, url + "/")
    expect(page.locator("#older")).to_be_visible()
    api(url, "/api/v1/messages", method="DELETE", all="true")
    expect(page.locator("#total")).to_have_text("0 messages")
    expect(page.locator("#empty")).to_contain_text("No messages yet")
    expect(page.locator("#older")).to_be_hidden()
    expect(page.locator('[data-action="delete-all"]')).to_be_disabled()


def test_older_page_refills_from_below_when_its_messages_are_deleted(ui_server, page):
    url = ui_server.url
    send_burst(ui_server.sink, messages("Paged", 110), connections=4)
    settled(ui_server, 110)
    everything = [int(m["id"]) for m in api(url, "/api/v1/messages", limit=1000)["messages"]]
    open_live(page, f"{url}/?before={everything[PAGE - 1]}")
    expect(page.locator("tr.msg").first).to_have_attribute("data-id", str(everything[PAGE]))
    for gone in everything[PAGE : PAGE + 5]:
        api(url, f"/api/v1/messages/{gone}", method="DELETE")
    expected = everything[PAGE + 5 : 2 * PAGE + 5]
    expect(page.locator("tr.msg").first).to_have_attribute("data-id", str(expected[0]))
    expect(page.locator("#total")).to_have_text("105 messages")
    eventually(lambda: None if page.evaluate(WINDOW)["ids"] == expected else "rows")
    expect(page.locator("#older")).to_have_attribute("href", f"/?before={expected[-1]}")


def test_message_page_says_when_its_message_is_deleted_elsewhere(ui_server, page):
    message_id = ui_server.send(text_message("Deleted while open"))
    open_live(page, f"{ui_server.url}/messages/{message_id}")
    expect(page.locator("#gone")).to_be_hidden()
    api(ui_server.url, f"/api/v1/messages/{message_id}", method="DELETE")
    expect(page.locator("#gone")).to_be_visible()
    expect(page.locator("#gone")).to_contain_text("deleted")
    expect(page.get_by_role("button", name="Delete")).to_be_disabled()
    assert page.evaluate("window.sameDocument") is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "message-deleted-elsewhere.png"))


def test_message_page_keeps_the_inbox_counts_current(ui_server, page):
    message_id = ui_server.send(text_message("Open me"))
    open_live(page, f"{ui_server.url}/messages/{message_id}")
    default = page.locator('.inboxes a[data-inbox="default"]')
    expect(default.locator(".count")).to_have_text("1")
    ui_server.send(text_message("Another"))
    ui_server.send(text_message("For the team"), login=("team", "x"))
    expect(default.locator(".count")).to_have_text("2")
    expect(default.locator(".unread-pill")).to_have_text("1")
    expect(page.locator('.inboxes a[data-inbox="team"] .count')).to_have_text("1")
    assert page.evaluate("window.sameDocument") is True

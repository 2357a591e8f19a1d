"""Live updates and actions: the page talks to the JSON API and follows its event stream."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from mailtrap_lite.config import Address, Config
from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.web import create_app
from mailtrap_lite.web.serve import WebServer
from tests.apiserver import index_all, store_message
from tests.uikit import ARTIFACTS, rich_message, text_message


def open_live_inbox(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    page.evaluate("window.sameDocument = true")


def api(url: str, method: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_new_mail_appears_without_a_reload(ui_server, page) -> None:
    ui_server.send(text_message("Already here"))
    open_live_inbox(page, ui_server.url + "/")
    ui_server.send(text_message("Fresh arrival", "just now"))
    expect(page.locator("tr.msg a.subject")).to_have_text(["Fresh arrival", "Already here"])
    expect(page.locator("#total")).to_have_text("2 messages")
    assert page.evaluate("window.sameDocument") is True


def test_new_mail_for_another_inbox_stays_out_of_a_filtered_view(ui_server, page) -> None:
    ui_server.send(text_message("Team mail"), login=("team", "x"))
    open_live_inbox(page, ui_server.url + "/?inbox=team")
    ui_server.send(text_message("Other inbox"))
    ui_server.send(text_message("Team again"), login=("team", "x"))
    expect(page.locator("tr.msg a.subject")).to_have_text(["Team again", "Team mail"])


def test_message_deleted_elsewhere_disappears(ui_server, page) -> None:
    first = ui_server.send(text_message("Stays"))
    second = ui_server.send(text_message("Goes"))
    open_live_inbox(page, ui_server.url + "/")
    api(f"{ui_server.url}/api/v1/messages/{second}", "DELETE")
    expect(page.locator("tr.msg")).to_have_count(1)
    expect(page.locator(f'tr.msg[data-id="{first}"]')).to_be_visible()


def test_delete_selected_removes_rows_and_messages(ui_server, page) -> None:
    ids = [ui_server.send(text_message(f"Message {n}")) for n in range(3)]
    page.goto(ui_server.url + "/")
    page.locator(f'tr.msg[data-id="{ids[0]}"] .pick').check()
    page.locator(f'tr.msg[data-id="{ids[2]}"] .pick').check()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("tr.msg a.subject")).to_have_text(["Message 1"])
    assert [m.id for m in ui_server.sink.messages()] == [ids[1]]


def test_delete_key_removes_the_current_message(ui_server, page) -> None:
    ids = [ui_server.send(text_message(f"Message {n}")) for n in range(2)]
    page.goto(ui_server.url + "/")
    page.keyboard.press("j")
    page.keyboard.press("Delete")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Message 0"])
    assert [m.id for m in ui_server.sink.messages()] == [ids[0]]


@pytest.mark.parametrize(("action", "read"), [("Mark read", True), ("Mark unread", False)])
def test_mark_selected_read_or_unread(ui_server, page, action, read) -> None:
    message_id = ui_server.send(text_message("Flip me"))
    ui_server.sink.store.set_read(message_id, not read)
    page.goto(ui_server.url + "/")
    page.locator("tr.msg .pick").check()
    page.get_by_role("button", name=action).click()
    unread = re.compile(r"\bunread\b")
    row = page.locator("tr.msg")
    if read:
        expect(row).not_to_have_class(unread)
    else:
        expect(row).to_have_class(unread)
    assert ui_server.sink.store.get_message(message_id).read is read


def test_delete_all_asks_first_and_cancel_keeps_everything(ui_server, page) -> None:
    for n in range(2):
        ui_server.send(text_message(f"Message {n}"))
    page.goto(ui_server.url + "/")
    page.get_by_role("button", name="Delete all…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete all 2 messages")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("tr.msg")).to_have_count(2)
    assert len(ui_server.sink.messages()) == 2


def test_delete_all_after_confirmation_empties_the_inbox(ui_server, page) -> None:
    for n in range(2):
        ui_server.send(text_message(f"Message {n}"))
    page.goto(ui_server.url + "/")
    page.get_by_role("button", name="Delete all…").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("tr.msg")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    assert ui_server.sink.messages() == []


def test_message_page_delete_returns_to_the_inbox(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Delete from the message page"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(ui_server.url + "/")
    expect(page.locator("tr.msg")).to_have_count(0)


def test_message_page_mark_unread(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Back to unread"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    expect(page.locator("article.message")).to_have_attribute("data-read", "true")  # the PATCH
    assert ui_server.sink.store.get_message(message_id).read is True
    page.get_by_role("button", name="Mark unread").click()
    expect(page.locator("#toast")).to_have_text("Marked unread")
    assert ui_server.sink.store.get_message(message_id).read is False


def test_search_box_filters_with_the_search_language(ui_server, page) -> None:
    ui_server.send(text_message("Invoice 42", "pay now"))
    ui_server.send(text_message("Welcome aboard", "hello"))
    page.goto(ui_server.url + "/")
    page.keyboard.press("/")
    page.keyboard.type('subject:"invoice"')
    page.keyboard.press("Enter")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Invoice 42"])
    expect(page.locator("#total")).to_have_text("1 message")


def test_unparsable_search_shows_an_error_not_a_crash(ui_server, page) -> None:
    response = page.goto(ui_server.url + "/?query=before:not-a-date")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("before")


def test_unparsable_search_shows_only_the_error_marking_where_it_failed(ui_server, page) -> None:
    ui_server.send(text_message("Grüße aus Köln", "hallo"))
    page.goto(ui_server.url + "/")
    page.keyboard.press("/")
    page.keyboard.type("koln OR")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("OR needs a term after it at position 6")
    expect(page.get_by_role("alert").locator("mark")).to_have_text("OR")
    for leftover in ("#total", ".live", "#messages", "#empty", ".toolbar"):
        expect(page.locator(leftover)).to_have_count(0)
    expect(page.get_by_text("No message matches")).to_have_count(0)
    page.locator("#search-box").fill("koln OR (filename:pdf -is:read)")
    page.keyboard.press("Enter")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Grüße aus Köln"])


def test_live_marker_shows_once_the_event_stream_is_open(ui_server, page) -> None:
    open_live_inbox(page, ui_server.url + "/")
    expect(page.locator(".live")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    ui_server.send(text_message("Arrived live", "while the page was open"))
    expect(page.locator("tr.msg.fresh")).to_have_count(1)
    expect(page.locator(".inboxes a[data-inbox=default] .count")).to_have_text("1")
    expect(page.locator("tr.msg.fresh .tag")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "inbox-live.png"))


@pytest.fixture
def bare_ui() -> Iterator[tuple[Store, str]]:
    """Serve the UI over a Store that nothing indexes, so a test decides when indexing runs."""
    store = SQLiteStore(None)
    web = WebServer(create_app(store, Config(), "127.0.0.1:2525"), Address("127.0.0.1", 0))
    web.start()
    yield store, web.url
    web.stop()
    store.close()


def test_row_gains_snippet_and_attachment_mark_when_indexing_finishes(bare_ui, page) -> None:
    store, url = bare_ui
    message_id = store_message(store, rich_message().as_bytes())
    open_live_inbox(page, url + "/")
    row = page.locator(f'tr.msg[data-id="{message_id}"]')
    expect(row.locator(".clip")).to_be_hidden()
    expect(row.locator(".snippet")).to_have_text("")
    index_all(store)
    expect(row.locator(".clip")).to_be_visible()
    expect(row.locator(".clip")).to_have_attribute("aria-label", "1 attachment(s)")
    expect(row.locator(".snippet")).to_contain_text("Hi Ada")
    assert page.evaluate("window.sameDocument") is True


def test_changes_between_rendering_and_streaming_are_replayed(bare_ui, page) -> None:
    store, url = bare_ui
    first = store_message(store, rich_message().as_bytes())
    arrived: list[int] = []

    def change_then_stream(route) -> None:
        # The page is rendered; before its stream opens, indexing finishes and mail arrives.
        index_all(store)
        arrived.append(store_message(store, text_message("In between").as_bytes()))
        route.continue_()

    page.route("**/api/v1/events*", change_then_stream)
    open_live_inbox(page, url + "/")
    expect(page.locator(f'tr.msg[data-id="{first}"] .clip')).to_be_visible()
    expect(page.locator("tr.msg a.subject")).to_have_text(["In between", "Reset your password"])
    assert arrived and page.evaluate("window.sameDocument") is True

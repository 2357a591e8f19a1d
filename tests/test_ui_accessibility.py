"""Every control has a name, pages have landmarks, and tabs follow the ARIA tabs pattern."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.uikit import text_message

UNNAMED_CONTROLS = """() => Array.from(
  document.querySelectorAll("input:not([type=hidden]), button, select, textarea, iframe, a[href]")
).filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("title")
  || (el.labels && el.labels.length) || el.textContent.trim()))
 .map((el) => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("path", ["/", "/messages/{id}", "/sessions", "/sessions/{session}"])
def test_every_control_has_an_accessible_name(ui_server, page, path) -> None:
    message = text_message("Names", "text")
    message.add_alternative("<p>html</p>", subtype="html")
    message_id = ui_server.send(message)
    session_id = ui_server.sink.store.get_message(message_id).session_id
    page.goto(ui_server.url + path.format(id=message_id, session=session_id))
    assert page.evaluate(UNNAMED_CONTROLS) == []
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("search")).to_have_count(1)


def test_message_tabs_follow_the_aria_tabs_pattern(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Tabs"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    tabs = page.get_by_role("tablist").get_by_role("tab")
    expect(tabs).to_have_count(11)
    expect(page.get_by_role("tab", selected=True)).to_have_count(1)
    selected = page.get_by_role("tab", selected=True)
    panel_id = selected.get_attribute("aria-controls")
    expect(page.locator(f"#{panel_id}")).to_have_attribute("role", "tabpanel")
    expect(page.get_by_role("tabpanel")).to_have_count(1)


def test_search_box_has_a_label_and_help(ui_server, page) -> None:
    page.goto(ui_server.url + "/")
    expect(page.get_by_label("Search messages")).to_be_visible()
    page.get_by_label("Search help").click()
    expect(page.locator("#search-help")).to_contain_text("has:attachment")

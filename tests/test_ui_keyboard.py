"""Keyboard use: j/k to move, Enter to open, / to search, arrows across message tabs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.uikit import text_message


@pytest.fixture
def three(ui_server) -> list[int]:
    return [ui_server.send(text_message(f"Message {n}")) for n in range(3)]


def test_j_and_k_move_the_current_row(ui_server, page, three) -> None:
    page.goto(ui_server.url + "/")
    current = page.locator("tr.msg.current a.subject")
    page.keyboard.press("j")
    expect(current).to_have_text("Message 2")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(current).to_have_text("Message 0")
    page.keyboard.press("j")
    expect(current).to_have_text("Message 0")
    page.keyboard.press("k")
    expect(current).to_have_text("Message 1")
    expect(current).to_be_focused()


def test_enter_opens_the_current_message(ui_server, page, three) -> None:
    page.goto(ui_server.url + "/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{ui_server.url}/messages/{three[1]}")
    expect(page.locator("h1")).to_have_text("Message 1")


def test_slash_focuses_the_search_box(ui_server, page, three) -> None:
    page.goto(ui_server.url + "/")
    page.keyboard.press("/")
    expect(page.locator("#search-box")).to_be_focused()
    page.keyboard.type("j")
    expect(page.locator("#search-box")).to_have_value("j")
    expect(page.locator("tr.msg.current")).to_have_count(0)


def test_arrow_keys_move_between_message_tabs(ui_server, page, three) -> None:
    page.goto(f"{ui_server.url}/messages/{three[0]}")
    page.get_by_role("tab", name="Text").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Source")).to_be_focused()
    expect(page.get_by_role("tab", name="Source")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-source")).to_be_visible()
    expect(page).to_have_url(re.compile("#source$"))


def test_focus_is_visible_on_keyboard_navigation(ui_server, page, three) -> None:
    page.goto(ui_server.url + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")

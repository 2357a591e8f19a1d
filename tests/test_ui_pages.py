"""The inbox, message tabs, sessions and transcripts, seen in a real headless Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from uikit import ARTIFACTS, text_message


def test_inbox_lists_messages_newest_first_with_unread_bold(ui_server, page) -> None:
    ui_server.send(text_message("First subject", "first body"))
    ui_server.send(text_message("Second subject", "second body"))
    page.goto(ui_server.url + "/")
    subjects = page.locator("tr.msg a.subject")
    expect(subjects).to_have_text(["Second subject", "First subject"])
    expect(page.locator("tr.msg.unread")).to_have_count(2)
    weight = page.locator("tr.msg a.subject").first.evaluate("e => getComputedStyle(e).fontWeight")
    assert int(weight) >= 600
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

"""Hostile HTML in a message executes nothing and fetches nothing until the reader asks.

A canary HTTP server on 127.0.0.1 records every request the page could make; scripts that
would run set the title, open dialogs or call the canary, so any of them running shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.uikit import Canary, text_message

HOSTILE = """<!doctype html><html><head><title>hostile</title>
<meta http-equiv="refresh" content="0;url={c}/refresh">
<meta http-equiv="&#82;efresh" content="0;url={c}/refresh-entity">
<link rel="stylesheet" href="{c}/link-stylesheet">
<link rel="prefetch" href="{c}/prefetch">
<style>@import url({c}/css-import); body {{ background: url({c}/css-url); }}</style>
<script>document.title = "pwned"; alert("script"); fetch("{c}/script-fetch");</script>
<script src="{c}/script-src"></script>
<base href="{c}/base/">
</head><body onload="alert('body-onload'); document.title = 'pwned'">
<h1 id="visible">Hostile message</h1>
<img src="{c}/remote-image" alt="remote">
<img src="broken.png" onerror="alert('onerror'); new Image().src = '{c}/onerror'">
<svg onload="alert('svg'); document.title = 'pwned'"><image href="{c}/svg-image"/></svg>
<a id="js-link" href="javascript:alert('link');document.title='pwned'">click me</a>
<iframe src="{c}/iframe"></iframe><object data="{c}/object"></object><embed src="{c}/embed">
<video poster="{c}/poster" src="{c}/video" autoplay></video>
<div style="background-image: url('{c}/inline-style')">styled</div>
<img srcset="{c}/srcset 2x"><input type="image" src="{c}/input-image">
<form action="{c}/form" method="post"><input name="q" autofocus></form>
<script>parent.document.title = "pwned"; parent.document.body.dataset.pwned = "script";
  parent.fetch("{c}/parent-fetch"); localStorage.setItem("pwned", "1");</script>
<img src="x:" onerror="parent.document.body.dataset.pwned = 'onerror'">
<details open ontoggle="parent.document.body.dataset.pwned = 'ontoggle'">
  <summary>s</summary></details>
<svg><animate onbegin="parent.document.body.dataset.pwned = 'onbegin'"
  attributeName="x" dur="1s"/></svg>
<iframe srcdoc="<script>parent.parent.document.body.dataset.pwned = 'srcdoc';</script>
  <img src={c}/srcdoc>"></iframe>
<object data="data:text/html,<script>top.document.body.dataset.pwned = 'object'</script>"></object>
<p style="height: 150vh">A block as tall as one and a half frames.</p>
<p id="last">The end of the hostile message.</p>
</body></html>"""


@pytest.fixture
def canary() -> Iterator[Canary]:
    with Canary() as running:
        yield running


@pytest.fixture
def hostile(ui_server, canary) -> int:
    message = text_message("Hostile HTML", "see the HTML part")
    message.add_alternative(HOSTILE.format(c=canary.url), subtype="html")
    return ui_server.send(message)


def settle(page) -> None:
    """Give refreshes, handlers and late loads time to happen, bounded."""
    # A loaded machine may take seconds for the first deliverability report (its libraries
    # load on first use): wait for quiet longer than Playwright's default, still bounded.
    page.wait_for_load_state("networkidle", timeout=30_000)
    time.sleep(1.2)  # a 0-second meta refresh or onload handler fires well within this


def frame_of(page):
    [frame] = [f for f in page.frames if "/body.html" in f.url]
    return frame


def test_hostile_html_runs_no_script_and_fetches_nothing(ui_server, page, canary, hostile):
    page.goto(f"{ui_server.url}/messages/{hostile}")
    expect(page.frame_locator("#html-frame").locator("#visible")).to_have_text("Hostile message")
    settle(page)
    assert canary.requests == []
    assert page.dialogs == []
    assert page.title() == "Hostile HTML · mailtrap-lite"
    assert frame_of(page).title() == "hostile"
    assert "refresh" not in frame_of(page).url
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.evaluate("localStorage.getItem('pwned')") is None


def test_hostile_html_is_shown_at_its_full_height_and_still_reaches_nothing(
    ui_server, page, canary, hostile
):
    page.goto(f"{ui_server.url}/messages/{hostile}")
    frame = page.locator("#html-frame")
    expect(frame).to_have_attribute("sandbox", "allow-popups allow-popups-to-escape-sandbox"
                                    " allow-same-origin")  # fmt: skip
    expect(page.frame_locator("#html-frame").locator("#last")).to_be_attached()
    page.wait_for_function("() => document.getElementById('html-frame').dataset.fitted")
    settle(page)
    # Measured from its content; a block sized in vh (relative to the frame) cannot make the
    # frame grow without end, since only loads and new widths measure it again.
    height = frame.evaluate("f => f.getBoundingClientRect().height")
    assert 420 < height < 10_000
    assert frame.evaluate("f => f.getBoundingClientRect().height") == height
    expect(page.frame_locator("#html-frame").locator("#last")).to_be_attached()
    assert canary.requests == []
    assert page.dialogs == []
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.title() == "Hostile HTML · mailtrap-lite"


def test_javascript_link_in_hostile_html_does_nothing(ui_server, page, canary, hostile):
    page.goto(f"{ui_server.url}/messages/{hostile}")
    frame = page.frame_locator("#html-frame")
    frame.locator("#js-link").click()
    settle(page)
    assert page.dialogs == []
    assert all(p.title() != "pwned" for p in page.context.pages)
    assert frame_of(page).title() == "hostile"
    assert canary.requests == []


def test_hostile_html_opened_directly_is_still_sandboxed(ui_server, page, canary, hostile):
    page.goto(f"{ui_server.url}/messages/{hostile}/body.html")
    expect(page.locator("#visible")).to_have_text("Hostile message")
    settle(page)
    assert page.title() == "hostile"
    assert page.dialogs == []
    assert canary.requests == []


def test_every_tab_of_hostile_message_fetches_nothing(ui_server, page, canary, hostile):
    page.goto(f"{ui_server.url}/messages/{hostile}")
    for tab in page.get_by_role("tab").all():
        tab.click()
    settle(page)
    assert canary.requests == []
    assert page.dialogs == []


def test_load_remote_content_fetches_images_but_still_runs_nothing(
    ui_server, page, canary, hostile
):
    page.goto(f"{ui_server.url}/messages/{hostile}")
    expect(page.locator("#remote-note")).to_contain_text("blocked")
    page.get_by_role("link", name="Load remote content").click()
    expect(page.frame_locator("#html-frame").locator("#visible")).to_be_visible()
    settle(page)
    assert "/remote-image" in canary.requests
    assert not {"/script-src", "/script-fetch", "/onerror", "/refresh", "/iframe"} & set(
        canary.requests
    )
    assert page.dialogs == []
    assert frame_of(page).title() == "hostile"


def test_remote_content_choice_does_not_carry_over_to_another_message(
    ui_server, page, canary, hostile
):
    page.goto(f"{ui_server.url}/messages/{hostile}?remote=1")
    settle(page)
    assert "/remote-image" in canary.requests
    canary.requests.clear()
    message = text_message("Another remote image", "see HTML")
    message.add_alternative(f'<img id="pixel" src="{canary.url}/second-image">', subtype="html")
    second = ui_server.send(message)
    page.goto(f"{ui_server.url}/messages/{second}")
    expect(page.frame_locator("#html-frame").locator("#pixel")).to_be_attached()
    settle(page)
    assert canary.requests == []

"""Dark mode follows the system setting, and a narrow window needs no sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.uikit import ARTIFACTS, text_message


def luminance(css_colour: str) -> float:
    inside = css_colour[css_colour.index("(") + 1 : -1]
    red, green, blue = (int(part) for part in inside.split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize(("scheme", "dark"), [("dark", True), ("light", False)])
def test_colours_follow_the_system_colour_scheme(ui_server, page, scheme, dark) -> None:
    ui_server.send(text_message("Colours"))
    page.emulate_media(color_scheme=scheme)
    page.goto(ui_server.url + "/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (luminance(background) < 0.3) is dark
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inbox-{scheme}.png"))


@pytest.mark.parametrize("path", ["/", "/messages/{id}", "/sessions", "/sessions/{session}"])
def test_narrow_window_needs_no_sideways_scrolling(ui_server, page, path) -> None:
    message_id = ui_server.send(text_message("A rather long subject line for a narrow phone"))
    session_id = ui_server.sink.store.get_message(message_id).session_id
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(ui_server.url + path.format(id=message_id, session=session_id))
    expect(page.locator("main")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    name = path.strip("/").split("/")[0] or "inbox"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"narrow-{name}.png"), full_page=True)


def test_sessions_page_screenshot(ui_server, page) -> None:
    ui_server.send(text_message("One"))
    page.goto(ui_server.url + "/sessions")
    expect(page.locator("table.sessions tbody tr.ok")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)

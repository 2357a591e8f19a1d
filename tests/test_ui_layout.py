"""Dark mode follows the system setting; no page scrolls sideways from 360 to 1,440 px wide.

The layout tests also save a screenshot of every page at 390 and 1,440 px, light and dark,
under test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.uikit import ARTIFACTS, UIServer, rich_message, text_message

LONG_INBOXES = ["pytest-gw0-e273ab33", "pytest-gw1-e273ab34", "marketing-newsletters-eu-west",
                "team-a", "ops", "x"]  # fmt: skip
WIDTHS = [360, 390, 768, 1440]
SHOTS = {390: "phone", 1440: "desktop"}
PAGES = {
    "inbox": "/",
    "inbox-filtered": "/?inbox=pytest-gw0-e273ab33",
    "search": "/?query=subject:rather",
    "message": "/messages/{message}",
    "sessions": "/sessions",
    "session": "/sessions/{session}",
    "not-found": "/messages/999999",
}


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


@pytest.fixture(scope="module")
def crowded() -> Iterator[tuple[UIServer, dict[str, int]]]:
    """A sink with six inboxes (long names), long subjects and addresses, a rich message."""
    with UIServer() as server:
        for name in LONG_INBOXES:
            subject = f"Hello {name}, a rather long subject line that goes on and on and on"
            server.send(text_message(subject, From=f"Notifications <{'n' * 40}@example.com>"),
                        login=(name, "x"))  # fmt: skip
        message = server.send(rich_message(), login=("pytest-gw0-e273ab33", "x"))
        record = server.sink.store.get_message(message)
        assert record is not None and record.session_id is not None
        yield server, {"message": message, "session": record.session_id}


@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways_from_360_to_1440_px(crowded, page, name) -> None:
    server, ids = crowded
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(server.url + PAGES[name].format(**ids))
        expect(page.locator("main")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px too wide at {width} px"
        if width in SHOTS:
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                path = ARTIFACTS / f"{name}-{SHOTS[width]}-{scheme}.png"
                page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("width", [390, 1440])
def test_message_tabs_stay_on_one_line_and_scroll(crowded, page, width) -> None:
    server, ids = crowded
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/messages/{ids['message']}#session")
    tops = page.locator('[role="tab"]').evaluate_all("tabs => tabs.map((t) => t.offsetTop)")
    assert len(set(tops)) == 1
    strip = page.get_by_role("tablist").bounding_box()
    last = page.get_by_role("tab", name="Session").bounding_box()
    assert strip is not None and last is not None
    assert strip["x"] <= last["x"] and last["x"] + last["width"] <= strip["x"] + strip["width"] + 1


def test_long_inbox_names_are_cut_with_a_title_and_the_time_stays_in_its_column(
    crowded, page
) -> None:
    server, _ = crowded
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + "/")
    name = page.locator('.inboxes a[data-inbox="marketing-newsletters-eu-west"] .inbox-name')
    expect(name).to_have_attribute("title", "marketing-newsletters-eu-west")
    assert name.evaluate("e => e.scrollWidth > e.clientWidth")
    table = page.locator("table.messages").bounding_box()
    assert table is not None
    for row in page.locator("tr.msg").all():
        time = row.locator("time").bounding_box()
        tag = row.locator(".tag")
        assert time is not None and time["x"] + time["width"] <= table["x"] + table["width"]
        if tag.count():
            expect(tag).to_have_attribute("title", tag.text_content() or "")
            box = tag.bounding_box()
            assert box is not None and box["x"] + box["width"] <= table["x"] + table["width"]

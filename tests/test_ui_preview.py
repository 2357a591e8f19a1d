"""The HTML preview is as tall as the message: no scrolling inside the frame, no blank box.

The frame can be measured because it keeps this app's origin (sandbox allow-same-origin);
that it still runs nothing and fetches nothing is tests/test_ui_hostile.py's concern.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.uikit import ARTIFACTS, text_message

FOOTER = '<p><a id="unsubscribe" href="https://news.example/unsubscribe">Unsubscribe</a></p>'
FRAME_SIZE = """(frame) => {
  const doc = frame.contentDocument.scrollingElement;
  return {frame: frame.getBoundingClientRect().height, content: doc.scrollHeight,
          inner: doc.clientHeight, scrolled: doc.scrollTop};
}"""


def png(width: int, height: int) -> bytes:
    """Build a grey PNG of this size (8-bit greyscale, no filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


def html_message(subject: str, html: str):
    message = text_message(subject, "see the HTML part")
    message.add_alternative(html, subtype="html")
    return message


def wait_fitted(page, at_least: float = 0) -> dict[str, float]:
    """Wait until the frame is as tall as its content (and at least `at_least` px)."""
    page.wait_for_function(
        """(least) => { const f = document.getElementById("html-frame");
          const d = f.contentDocument && f.contentDocument.scrollingElement;
          return d && f.dataset.fitted && d.scrollHeight <= d.clientHeight
                 && f.getBoundingClientRect().height >= least; }""",
        arg=at_least,
    )
    return page.locator("#html-frame").evaluate(FRAME_SIZE)


def test_long_newsletter_is_shown_whole_and_its_footer_reached_by_scrolling_the_page(
    ui_server, page
):
    paragraphs = "".join(f"<p>Paragraph {n} of the newsletter.</p>" for n in range(80))
    message_id = ui_server.send(html_message("Newsletter", paragraphs + FOOTER))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    size = wait_fitted(page, at_least=2000)
    assert abs(size["frame"] - size["content"]) <= 2 and size["content"] <= size["inner"]
    page.frame_locator("#html-frame").locator("#unsubscribe").scroll_into_view_if_needed()
    expect(page.frame_locator("#html-frame").locator("#unsubscribe")).to_be_in_viewport()
    assert page.locator("#html-frame").evaluate(FRAME_SIZE)["scrolled"] == 0
    assert page.evaluate("window.scrollY") > 1000
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "message-long-html.png"))


def test_short_mail_leaves_no_blank_box(ui_server, page):
    message_id = ui_server.send(html_message("Short", "<p id='hi'>Hi there.</p>"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    expect(page.frame_locator("#html-frame").locator("#hi")).to_be_visible()
    size = wait_fitted(page)
    assert size["frame"] < 120 and size["content"] <= size["inner"]


def test_images_count_in_the_height(ui_server, page):
    message = text_message("Picture", "see the HTML part")
    message.add_alternative('<p>Above</p><img id="tall" src="cid:tall@example.com"><p>Below</p>',
                            subtype="html")  # fmt: skip
    message.get_payload()[1].add_related(png(20, 600), "image", "png", cid="<tall@example.com>")
    message_id = ui_server.send(message)
    page.goto(f"{ui_server.url}/messages/{message_id}")
    expect(page.frame_locator("#html-frame").locator("#tall")).to_have_js_property(
        "naturalHeight", 600
    )
    size = wait_fitted(page, at_least=600)
    assert size["content"] <= size["inner"]


@pytest.mark.parametrize("preset", ["Phone", "Tablet"])
def test_a_narrower_preview_grows_to_fit_the_reflowed_message(ui_server, page, preset):
    text = " ".join(["words that wrap"] * 400)
    message_id = ui_server.send(html_message("Reflow", f"<p>{text}</p>"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    wide = wait_fitted(page)
    page.get_by_role("button", name=preset).click()
    narrow = wait_fitted(page, at_least=wide["frame"] + 50)
    assert narrow["content"] <= narrow["inner"]
    page.get_by_role("button", name="Desktop").click()
    page.wait_for_function(
        "(h) => document.getElementById('html-frame').getBoundingClientRect().height <= h",
        arg=wide["frame"] + 1,
    )

"""The inbox, message tabs, sessions and transcripts, seen in a real headless Chromium."""

from __future__ import annotations

import re
import smtplib
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.uikit import ARTIFACTS, UIServer, rich_message, text_message
from tests.wire import greet, send_data


@pytest.fixture
def rich(ui_server: UIServer) -> int:
    return ui_server.send(rich_message(), to=("ada@example.com", "ops@example.com",
                                              "audit@example.com"))  # fmt: skip


def test_inbox_lists_messages_newest_first_with_unread_bold(ui_server, page) -> None:
    ui_server.send(text_message("First subject", "first body"))
    ui_server.send(text_message("Second subject", "second body"))
    page.goto(ui_server.url + "/")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Second subject", "First subject"])
    expect(page.locator("tr.msg.unread")).to_have_count(2)
    weight = page.locator("tr.msg a.subject").first.evaluate("e => getComputedStyle(e).fontWeight")
    assert int(weight) >= 600
    expect(page.locator("tr.msg .snippet").first).to_have_text("second body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)


def test_inbox_shows_attachment_mark_and_recipients(ui_server, page, rich) -> None:
    page.goto(ui_server.url + "/")
    row = page.locator(f'tr.msg[data-id="{rich}"]')
    expect(row.locator(".clip")).to_be_visible()
    expect(row.locator(".to")).to_have_text("to ada@example.com")
    expect(row.locator(".from")).to_have_text("App")


# Emoji and dingbats: without an emoji or symbol font they render as empty boxes.
SYMBOLS = r"/[\u{2190}-\u{21FF}\u{2600}-\u{27BF}\u{1F000}-\u{1FAFF}]/u"


def test_attachment_mark_is_an_svg_icon_and_no_page_relies_on_a_symbol_font(
    ui_server, page, rich
) -> None:
    session_id = ui_server.sink.store.get_message(rich).session_id
    page.goto(ui_server.url + "/")
    clip = page.locator(f'tr.msg[data-id="{rich}"] .clip')
    expect(clip).to_have_text("")
    box = clip.locator("svg").bounding_box()
    assert box is not None and box["width"] >= 10 and box["height"] >= 10
    for path in ("/", f"/messages/{rich}", "/sessions", f"/sessions/{session_id}", "/nowhere"):
        page.goto(ui_server.url + path)
        found = page.evaluate(f"document.body.innerText.match({SYMBOLS}g)")
        assert found is None, f"{path} shows {found}"


def test_inbox_pages_with_a_before_cursor(ui_server, page) -> None:
    store = ui_server.sink.store
    ids = [ui_server.send(text_message(f"Message {n}")) for n in range(3)]
    page.goto(f"{ui_server.url}/?before={ids[2]}")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Message 1", "Message 0"])
    expect(page.locator("#total")).to_have_text("3 messages")
    assert store.list_messages().total == 3


def test_opening_a_message_marks_it_read_with_a_patch(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Read me"))
    with page.expect_request(lambda r: r.method == "PATCH") as marking:
        page.goto(f"{ui_server.url}/messages/{message_id}")
    assert marking.value.url.endswith(f"/api/v1/messages/{message_id}")
    expect(page.locator("article.message")).to_have_attribute("data-read", "true")
    page.goto(ui_server.url + "/")
    expect(page.locator("tr.msg.unread")).to_have_count(0)


def test_inbox_switcher_lists_auth_inboxes_with_counts(ui_server, page) -> None:
    server = ui_server  # AUTH names the inbox; any credentials are accepted here
    server.send(text_message("For team A"), login=("team-a", "x"))
    server.send(text_message("For team A again"), login=("team-a", "x"))
    server.send(text_message("Without AUTH"))
    page.goto(server.url + "/")
    team = page.locator('.inboxes a[data-inbox="team-a"]')
    expect(team).to_contain_text("team-a")
    expect(team.locator(".count")).to_have_text("2")
    team.click()
    expect(page).to_have_url(re.compile(r"\?inbox=team-a$"))
    expect(page.locator("tr.msg a.subject")).to_have_text(["For team A again", "For team A"])


TABS = [
    ("text", "reset here: https://app.example.com/reset?token=abc123"),
    ("source", "Subject: Reset your password"),
    ("headers", "Ada Lovelace <ada@example.com>"),
    ("parts", "multipart/related"),
    ("attachments", "invoice.csv"),
    ("links", "Reset password"),
    ("envelope", "audit@example.com"),
    ("session", "250 2.0.0 Ok: queued as"),
]


@pytest.mark.parametrize(("tab", "expected"), TABS)
def test_message_tab_shows_its_content(ui_server, page, rich, tab, expected) -> None:
    page.goto(f"{ui_server.url}/messages/{rich}")
    page.get_by_role("tab", name=re.compile(f"^{tab}", re.IGNORECASE)).click()
    panel = page.locator(f"#panel-{tab}")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(expected)
    expect(page.locator('[role="tabpanel"]:visible')).to_have_count(1)


def test_html_tab_renders_the_body_with_its_cid_image(ui_server, page, rich) -> None:
    page.goto(f"{ui_server.url}/messages/{rich}")
    frame = page.frame_locator("#html-frame")
    expect(frame.locator("#greeting")).to_have_text("Hello Ada")
    expect(frame.locator("#logo")).to_have_js_property("naturalWidth", 1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "message.png"), full_page=True)


@pytest.mark.parametrize(("preset", "width"), [("tablet", 768), ("phone", 375)])
def test_width_presets_resize_the_html_preview(ui_server, page, rich, preset, width) -> None:
    page.goto(f"{ui_server.url}/messages/{rich}")
    page.get_by_role("button", name=preset.capitalize()).click()
    box = page.locator("#html-frame").bounding_box()
    assert box is not None and round(box["width"]) == width


def test_envelope_tab_lists_blind_copy_recipient_as_bcc(ui_server, page, rich) -> None:
    page.goto(f"{ui_server.url}/messages/{rich}#envelope")
    row = page.locator("#panel-envelope tr", has_text="Bcc")
    expect(row).to_contain_text("audit@example.com")
    expect(row).not_to_contain_text("ops@example.com")


def test_warnings_tab_lists_missing_date_and_message_id(ui_server, page) -> None:
    raw = b"From: a@example.com\r\nSubject: bare\r\n\r\nno date, no id\r\n"
    message_id = ui_server.send(raw)
    page.goto(f"{ui_server.url}/messages/{message_id}#warnings")
    panel = page.locator("#panel-warnings")
    expect(panel).to_contain_text("missing-date")
    expect(panel).to_contain_text("missing-message-id")


def test_transcript_shows_client_and_server_lines_with_relative_times(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Transcript"))
    session_id = ui_server.sink.store.get_message(message_id).session_id
    page.goto(f"{ui_server.url}/sessions/{session_id}")
    client = page.locator("table.transcript tr.client")
    server = page.locator("table.transcript tr.server")
    expect(client.filter(has_text="QUIT")).to_have_count(1)
    expect(server.filter(has_text="221 2.0.0")).to_have_count(1)
    expect(server.first).to_contain_text("220 ")
    expect(page.locator("table.transcript td.at").first).to_have_text(re.compile(r"^\+0\.\d{3}s$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "transcript.png"), full_page=True)


def test_sessions_page_highlights_a_failed_auth_session(make_ui_server, page) -> None:
    server = make_ui_server(credentials={"u": "p"})
    server.send(text_message("Good session"), login=("u", "p"))
    with smtplib.SMTP(server.sink.host, server.sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("u", "wrong")
    page.goto(server.url + "/sessions")
    failed = page.locator("table.sessions tbody tr.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text('AUTH failed for user "u": 535')
    expect(page.locator("table.sessions tbody tr.ok")).to_have_count(1)
    expect(page.locator("table.sessions tbody tr").first).to_have_class(re.compile("failed"))
    failed.locator("a").first.click()
    expect(page.locator("table.transcript tr.client", has_text="AUTH PLAIN ****")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions-failed-auth.png"), full_page=True)


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/messages/999999", 404, "Not found"),
        ("/no/such/page", 404, "Not found"),
        ("/?before=yesterday", 400, "Bad request"),
    ],
)
def test_error_pages_use_the_layout_with_a_way_back(ui_server, page, path, status, title) -> None:
    response = page.goto(ui_server.url + path)
    assert response is not None and response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("navigation", name="Inboxes")).to_be_visible()
    page.get_by_role("link", name="Back to the inbox").click()
    expect(page).to_have_url(ui_server.url + "/")


def test_server_error_page_uses_the_layout_and_hides_the_details(ui_server, page) -> None:
    message_id = ui_server.send(text_message("Its bytes go missing"))
    with sqlite3.connect(ui_server.sink.store.path) as conn:
        conn.execute("DROP TABLE message_raw")  # a page that cannot be built: a bug's stand-in
    response = page.goto(f"{ui_server.url}/messages/{message_id}")
    assert response is not None and response.status == 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    expect(page.locator("main")).not_to_contain_text("message_raw")
    expect(page.get_by_role("link", name="Back to the inbox")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "error-500.png"), full_page=True)


def test_api_errors_stay_json(ui_server) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{ui_server.url}/api/v1/messages/999999", timeout=10)
    with missing.value as answer:
        assert answer.code == 404
        assert answer.headers["Content-Type"] == "application/json"


def test_inbox_says_how_many_messages_retention_removed(make_ui_server, page) -> None:
    server = make_ui_server(max_messages=2)
    for n in range(3):
        server.send(text_message(f"Kept or pruned {n}"))
    page.goto(server.url + "/")
    expect(page.locator("tr.msg")).to_have_count(2)
    expect(page.locator(".pruned-note")).to_contain_text("1 older message removed")


def test_message_header_shows_the_date_and_a_size_in_words(ui_server, page) -> None:
    raw = b"From: a@example.com\r\nSubject: tiny\r\n\r\nhi\r\n"
    message_id = ui_server.send(raw)
    record = ui_server.sink.store.get_message(message_id)
    page.goto(f"{ui_server.url}/messages/{message_id}")
    received = page.locator(".addresses dd", has=page.locator("time"))
    year, day = record.received_at[:4], str(int(record.received_at[8:10]))
    expect(received.locator("time")).to_contain_text(year)
    expect(received.locator("time")).to_contain_text(re.compile(rf"\b{day}\b"))
    expect(received).to_contain_text(f"· {record.size} bytes")
    expect(page.locator("main")).not_to_contain_text("Bytes")


def test_source_tab_marks_bare_line_endings_nul_bytes_and_long_lines(ui_server, page) -> None:
    raw = (b"From: a@example.com\r\nSubject: odd\r\n\r\nbare\nline\nend\r\nnul \x00 here\r\n"
           + b"y" * 1200 + b"\r\n")  # fmt: skip
    with greet(ui_server.sink.host, ui_server.sink.port) as wire:  # smtplib would fix the LFs
        assert send_data(wire, raw + b".\r\n").code == 250
    [message] = ui_server.sink.wait_for(count=1)
    page.goto(f"{ui_server.url}/messages/{message.id}#warnings")
    page.locator("#panel-warnings li", has_text="bare-line-ending").get_by_role(
        "button", name="Show in the source"
    ).click()
    expect(page.locator("#panel-source")).to_be_visible()
    marks = page.locator("pre.source .src-mark")
    expect(marks).to_have_count(4)
    expect(page.locator("pre.source .src-lf")).to_have_count(2)
    expect(page.locator("pre.source .src-nul")).to_have_count(1)
    expect(page.locator("pre.source .src-long")).to_have_attribute("data-note", re.compile("1,200"))
    expect(marks.first).to_have_class(re.compile(r"\bcurrent\b"))
    expect(marks.first).to_be_in_viewport()
    expect(page.locator(".source-marks")).to_contain_text("2 × bare LF")
    page.get_by_role("button", name="Go to the next").click()
    expect(marks.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    assert "bare\nline\nend" in page.locator("pre.source").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "message-source-marks.png"))

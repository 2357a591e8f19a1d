"""Tags and release in the browser: chips, the sidebar, tagging a selection, the dialog."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.test_relay import relay_file
from tests.uikit import ARTIFACTS, UIServer, text_message


def test_tags_show_in_the_list_and_the_sidebar(ui_server: UIServer, page) -> None:
    ui_server.send(text_message("tagged", X_Tags="signup"))
    ui_server.send(text_message("plain"))
    page.goto(ui_server.url + "/")
    row = page.locator("tr.msg", has_text="tagged")
    expect(row.locator(".chip")).to_have_text(["signup"])
    page.locator('.tag-list a[data-tag="signup"]').click()
    expect(page.locator("tr.msg a.subject")).to_have_text(["tagged"])
    expect(page.locator("#search-box")).to_have_value("tag:signup")


def test_a_selection_is_tagged_from_the_toolbar(ui_server: UIServer, page) -> None:
    first = ui_server.send(text_message("one"))
    second = ui_server.send(text_message("two"))
    page.goto(ui_server.url + "/")
    for message_id in (first, second):
        page.locator(f'tr.msg[data-id="{message_id}"] .pick').check()
    page.locator('.toolbar [data-action="tag"]').click()
    page.locator("#tag-name").fill("reviewed")
    page.locator('#tag-dialog button[value="ok"]').click()
    expect(page.locator("tr.msg .chip", has_text="reviewed")).to_have_count(2)
    tagged = ui_server.sink.store.list_messages().messages
    assert [m.tags for m in tagged] == [["reviewed"], ["reviewed"]]


def test_the_message_page_adds_and_removes_tags(ui_server: UIServer, page) -> None:
    message_id = ui_server.send(text_message("edit me", X_Tags="old"))
    page.goto(f"{ui_server.url}/messages/{message_id}")
    page.locator("#new-tag").fill("new")
    page.locator("#add-tag button").click()
    expect(page.locator("#message-tags .chip")).to_have_count(2)
    page.locator('[data-remove-tag="old"]').click()
    expect(page.locator("#message-tags .chip")).to_have_count(1)
    record = ui_server.sink.store.get_message(message_id)
    assert record is not None and record.tags == ["new"]


def test_the_release_dialog_sends_and_shows_the_outcome(tmp_path: Path, page) -> None:
    with Sink() as target:
        config = Config(smtp=Address("127.0.0.1", 0), relay_config=relay_file(tmp_path, target))
        with UIServer(config) as server:
            message_id = server.send(text_message("release me"))
            page.goto(f"{server.url}/messages/{message_id}")
            page.locator('[data-action="release"]').click()
            page.locator("#release-to").fill("nobody@other.test")
            page.locator("#release-send").click()
            expect(page.locator("#release-error")).to_contain_text("does not allow")
            page.locator("#release-to").fill("ann@example.com")
            page.locator("#release-send").click()
            expect(page.locator(".releases li")).to_contain_text("sent")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "release.png"), full_page=True)
        [arrived] = target.wait_for()
        assert arrived.rcpt_to == ["ann@example.com"]


def open_tag_page(server: UIServer, page, name: str) -> None:
    """Open the inbox and follow the tag's link in the sidebar to its own page."""
    page.goto(server.url + "/")
    page.locator(f'.tag-list a[data-tag="{name}"]').click()
    expect(page.locator(".tag-actions")).to_have_attribute("data-tag", name)
    # The page's script has run (it wires the tag buttons, then opens the live stream): a
    # click before that would open no dialog.
    expect(page.locator("body")).to_have_attribute("data-live", "open")


def test_a_tag_is_renamed_from_its_page(ui_server: UIServer, page) -> None:
    for subject in ("one", "two"):
        ui_server.send(text_message(subject, X_Tags="signup"))
    ui_server.send(text_message("other", X_Tags="billing"))
    open_tag_page(ui_server, page, "signup")
    page.locator('[data-tag-action="rename"]').click()
    page.locator("#rename-tag-name").fill("new users")
    page.locator("#rename-tag-save").click()
    expect(page.locator("#search-box")).to_have_value('tag:"new users"')
    expect(page.locator("tr.msg .chip")).to_have_text(["new users", "new users"])
    expect(page.locator(".tag-list a[data-tag]")).to_have_count(2)
    assert [t[0] for t in ui_server.sink.store.tags()] == ["billing", "new users"]


def test_a_bad_new_name_is_explained_in_the_rename_dialog(ui_server: UIServer, page) -> None:
    ui_server.send(text_message("one", X_Tags="signup"))
    open_tag_page(ui_server, page, "signup")
    page.locator('[data-tag-action="rename"]').click()
    page.locator("#rename-tag-name").fill("a/b")
    page.locator("#rename-tag-save").click()
    expect(page.locator("#rename-tag-error")).to_contain_text("bad tag 'a/b'")
    expect(page.locator("#rename-tag-dialog")).to_be_visible()
    assert [t[0] for t in ui_server.sink.store.tags()] == ["signup"]


def test_a_tag_is_deleted_from_its_page_and_its_messages_stay(ui_server: UIServer, page) -> None:
    for subject in ("one", "two"):
        ui_server.send(text_message(subject, X_Tags="signup, kept"))
    open_tag_page(ui_server, page, "signup")
    page.locator('[data-tag-action="delete"]').click()
    expect(page.locator("#delete-tag-dialog")).to_contain_text("removed from 2 messages")
    page.locator("#delete-tag-confirm").click()
    expect(page.locator("#search-box")).to_have_value("")
    expect(page.locator("tr.msg .chip")).to_have_text(["kept", "kept"])
    expect(page.locator('.tag-list a[data-tag="signup"]')).to_have_count(0)
    assert [t[0] for t in ui_server.sink.store.tags()] == ["kept"]

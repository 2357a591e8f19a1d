"""The inbox's Export and Import… buttons in Chromium: real downloads, a real file chooser."""

from __future__ import annotations

import mailbox
from pathlib import Path

from playwright.sync_api import expect

from tests.uikit import UIServer, text_message


def subjects_of(mbox: Path) -> list[str]:
    """Return the subjects of an mbox file, in file order (read by CPython's mailbox)."""
    box = mailbox.mbox(mbox, create=False)
    try:
        return [str(message["Subject"]) for message in box]
    finally:
        box.close()


def download_export(page, tmp_path: Path) -> Path:
    """Click Export and return the file Chromium saved."""
    with page.expect_download() as started:
        page.locator('.toolbar [data-action="export"]').click()
    download = started.value
    assert download.suggested_filename == "mailtrap-lite-export.mbox"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    return saved


def test_export_downloads_the_selected_messages(ui_server: UIServer, page, tmp_path: Path) -> None:
    ids = [ui_server.send(text_message(subject)) for subject in ("one", "two", "three")]
    page.goto(ui_server.url + "/")
    for message_id in (ids[0], ids[2]):
        page.locator(f'tr.msg[data-id="{message_id}"] .pick').check()
    assert subjects_of(download_export(page, tmp_path)) == ["one", "three"]


def test_export_without_a_selection_downloads_the_current_search(
    ui_server: UIServer, page, tmp_path: Path
) -> None:
    for subject in ("invoice 1", "welcome", "invoice 2"):
        ui_server.send(text_message(subject))
    page.goto(ui_server.url + "/?query=subject:invoice")
    expect(page.locator("tr.msg")).to_have_count(2)
    assert subjects_of(download_export(page, tmp_path)) == ["invoice 1", "invoice 2"]


def test_import_uploads_the_chosen_file_into_the_inbox_shown(
    ui_server: UIServer, page, tmp_path: Path
) -> None:
    ui_server.send(text_message("already here"))
    source = tmp_path / "old.mbox"
    box = mailbox.mbox(source)
    for subject in ("old one", "old two"):
        box.add(text_message(subject))
    box.close()
    page.goto(ui_server.url + "/?inbox=archive")
    with page.expect_file_chooser() as chooser:
        page.locator('.toolbar [data-action="import"]').click()
    chooser.value.set_files(str(source))
    expect(page.locator("#toast")).to_have_text("Imported 2, skipped 0 duplicates")
    expect(page.locator("tr.msg a.subject")).to_have_text(["old two", "old one"])
    expect(page.locator('nav.inboxes a[data-inbox="archive"] .count')).to_have_text("2")
    stored = ui_server.sink.store.list_messages(inbox="archive").messages
    assert sorted(m.subject for m in stored) == ["old one", "old two"]

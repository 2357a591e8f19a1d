"""Files in and out: CPython's mailbox module agrees with our mbox and Maildir, mailpit dump
folders import, and bad files are reported by name and position while the run goes on."""

from __future__ import annotations

import email
import mailbox
import os
import zipfile
from pathlib import Path

import pytest

from mailtrap_lite.cli import main
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import store_message

MESSAGES = [
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: first\r\nMessage-ID: <1@x>\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nhello\r\n",
    b"From: c@example.com\r\nTo: d@example.com\r\nSubject: second\r\nMessage-ID: <2@x>\r\n"
    b"\r\nFrom here on a line starts with From\r\n",
    b"From: e@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\n\xc3\xa9t\xc3\xa9\r\n",
]


def stored(db: Path) -> list[bytes]:
    store = SQLiteStore(db)
    try:
        return [m.raw for m in store.export_messages()]
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "mail.db"
    store = SQLiteStore(path)
    for raw in MESSAGES:
        store_message(store, raw)
    store.close()
    return path


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_cpython_mailbox_reads_our_messages_and_headers(db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / ("out.mbox" if fmt == "mbox" else "out")
    assert main(["export", str(out), "--db", str(db), "--format", fmt, "--quiet"]) == 0
    box = mailbox.mbox(out) if fmt == "mbox" else mailbox.Maildir(out, create=False)
    try:
        read = {m["Subject"]: m for m in box}
        for raw in MESSAGES:  # the same headers, as the email package reads them
            ours = email.message_from_bytes(raw)
            theirs = read[ours["Subject"]]
            assert theirs.items() == ours.items()
        if fmt == "maildir":  # Maildir needs no quoting: the bytes are the same
            assert sorted(bytes(box.get_bytes(k)) for k in box.keys()) == sorted(MESSAGES)
    finally:
        box.close()


def test_cpython_mbox_leaves_our_from_quoting_in_place(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mbox"
    assert main(["export", str(out), "--db", str(db), "--quiet"]) == 0
    box = mailbox.mbox(out)
    second = box[1].get_payload(decode=True)
    box.close()
    assert second == b">From here on a line starts with From\r\n"  # mboxo does not unquote


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_we_read_what_cpython_mailbox_writes(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("written.mbox" if fmt == "mbox" else "written")
    box: mailbox.Mailbox[mailbox.Message] = (
        mailbox.mbox(path) if fmt == "mbox" else mailbox.Maildir(path)
    )
    for raw in MESSAGES:
        box.add(raw)
    box.flush()
    box.close()
    db = tmp_path / "mail.db"
    assert main(["import", str(path), "--db", str(db), "--quiet"]) == 0
    got = stored(db)
    if fmt == "maildir":
        got.sort(key=lambda raw: MESSAGES.index(raw))
    # mboxo writes "From " body lines as ">From " and never undoes it: all else is exact
    assert got == MESSAGES


def test_a_mailpit_dump_folder_imports(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    ids = ["2cE9jrRUEcKw4Axv8WjbkZ", "Pb9eMNdCxBmxd7aWiBmMvn", "J5yWTk3QhUwDoEBUmChGnX"]
    for message_id, raw, stamp in zip(ids, MESSAGES, (1700000000, 1700000100, 1700000200),
                                      strict=True):  # fmt: skip
        path = dump / f"{message_id}.eml"
        path.write_bytes(raw)
        os.utime(path, (stamp, stamp))  # mailpit dump sets each file's time to Created
    db = tmp_path / "mail.db"
    assert main(["import", str(dump), "--db", str(db), "--quiet"]) == 0
    assert sorted(stored(db)) == sorted(MESSAGES)


def test_zip_of_a_folder_and_an_mbox_imports(db: Path, tmp_path: Path) -> None:
    mbox = tmp_path / "out.mbox"
    assert main(["export", str(mbox), "--db", str(db), "--quiet"]) == 0
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(mbox, "nested/all.mbox")
        bundle.writestr("dump/one.eml", MESSAGES[0])
    fresh = tmp_path / "fresh.db"
    assert main(["import", str(archive), "--db", str(fresh), "--keep-duplicates", "--quiet"]) == 0
    assert stored(fresh) == [*MESSAGES, MESSAGES[0]]


def _run_import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_truncated_mbox_reports_the_cut_message_and_keeps_the_rest(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "whole.mbox"
    assert main(["export", str(out), "--db", str(db), "--quiet"]) == 0
    cut = tmp_path / "cut.mbox"
    cut.write_bytes(out.read_bytes()[:-4])  # inside the last message's last line
    fresh = tmp_path / "fresh.db"
    code, summary, err = _run_import(capsys, str(cut), "--db", str(fresh))
    assert code == 1
    assert f"{cut}: message 3 (line 18): truncated: the file ends inside a line" in err
    assert summary.strip() == "imported 2, skipped 0 duplicates, failed 1 (truncated: 1)"
    assert stored(fresh) == MESSAGES[:2]


def test_an_mbox_cut_inside_a_header_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.mbox"
    whole = b"From x Mon Jan  1 00:00:00 2024\nSubject: whole\n\nbody\n\n"
    cut.write_bytes(whole + b"From y Mon Jan  1 00:00:00 2024\nSubject: cut\nTo: a@example.com\n")
    code, _, err = _run_import(capsys, str(cut), "--db", str(tmp_path / "m.db"))
    assert code == 1 and "message 2 (line 6): truncated: the file ends inside its header" in err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("photo.eml", b"\x89PNG\r\n\x1a\n\x00\x00", "not a message"),
        ("mail.mbox", b"PK\x03\x04 a zip in disguise", "not an mbox file"),
        ("bundle.zip", b"From x Mon Jan  1 00:00:00 2024\n\nbody\n", "not a zip file"),
        ("empty.eml", b"", "not a message: the file is empty"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_skipped_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, reason: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    good = tmp_path / "good.eml"
    good.write_bytes(MESSAGES[0])
    db = tmp_path / "mail.db"
    code, summary, err = _run_import(capsys, str(bad), str(good), "--db", str(db))
    assert code == 1
    assert f"skipped {bad}: {reason}" in err
    assert summary.startswith("imported 1, skipped 0 duplicates, failed 1")
    assert stored(db) == [MESSAGES[0]]


def test_a_message_over_the_size_limit_is_skipped_by_position(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.mbox"
    assert main(["export", str(out), "--db", str(db), "--quiet"]) == 0
    largest = max(MESSAGES, key=len)
    limit = str(len(largest) - 1)
    fresh = tmp_path / "fresh.db"
    code, summary, err = _run_import(capsys, str(out), "--db", str(fresh),
                                     "--max-message-size", limit)  # fmt: skip
    assert code == 1
    number = MESSAGES.index(largest) + 1
    assert f"{out}: message {number} (line " in err and f"over --max-message-size {limit}" in err
    assert "failed 1 (too-large: 1)" in summary
    assert stored(fresh) == [m for m in MESSAGES if m is not largest]


def test_plain_progress_lines_and_a_summary_when_not_on_a_terminal(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailtrap_lite.cli.progress.PLAIN_EVERY", 0.0)
    out = tmp_path / "all.mbox"
    assert main(["export", str(out), "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("exported 3 of 3 (") and lines[0].endswith(" msg/s)")
    assert lines[-1] == f"exported 3 messages to {out}"


def test_quiet_shows_no_progress_and_no_summary(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailtrap_lite.cli.progress.PLAIN_EVERY", 0.0)
    assert main(["export", str(tmp_path / "all.mbox"), "--db", str(db), "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_a_terminal_gets_richs_progress_bar(db: Path, tmp_path: Path) -> None:
    """Run under a pseudo-terminal: the bar shows the count and the rate."""
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    out = tmp_path / "all.mbox"
    proc = subprocess.run([sys.executable, "-m", "mailtrap_lite", "export", str(out), "--db",
                           str(db)], stdout=follower, stderr=subprocess.PIPE, timeout=60,
                          check=False)  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    text = shown.decode("utf-8", "replace")
    assert "3/3" in text and "msg/s" in text and "━" in text  # rich's bar
    assert f"exported 3 messages to {out}" in text

"""Round trips: SMTP -> export (each format, from the database or the API) -> import into
a fresh database -> every raw byte equal, in the same order."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.cli import main
from mailtrap_lite.config import Config
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, make_message, until

# Bodies that an mbox file must quote to keep: "From " and ">From " lines, 8-bit text,
# a message that ends in an empty line.
MESSAGES = [
    make_message("plain", "hello\n", Message_ID="<1@example.com>"),
    make_message(
        "quoting",
        "From the start\n>From quoted\n>>From twice\nFrom\n",
        Message_ID="<2@example.com>",
    ),
    make_message("eight bit", "Grüße aus Köln\n", Message_ID="<3@example.com>"),
    make_message("ends empty", "last line then an empty one\n\n", Message_ID="<4@example.com>"),
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(db=tmp_path / "mail.db")
    for message in MESSAGES:
        server.send(message)
    server.send(
        make_message("other", "x\n", Message_ID="<5@example.com>"), to=["someone@example.com"]
    )
    until(lambda: server.store.stats()["unindexed"] == 0)  # subject: searches the index
    yield server
    server.stop()


def db_of(served: Served) -> Path:
    path = served.sink.config.db
    assert path is not None
    return path


def raws(db: Path) -> list[bytes]:
    store = SQLiteStore(db)
    try:
        return [m.raw for m in store.export_messages(limit=1000)]
    finally:
        store.close()


def export_then_import(tmp_path: Path, source: list[str], fmt: str, suffix: str) -> Path:
    out = tmp_path / f"out{suffix}"
    assert main(["export", str(out), "--format", fmt, "--quiet", *source]) == 0
    fresh = tmp_path / "fresh.db"
    assert main(["import", str(out), "--db", str(fresh), "--quiet"]) == 0
    return fresh


@pytest.mark.parametrize(("fmt", "suffix"), [("mbox", ".mbox"), ("maildir", ""), ("eml", ""),
                                             ("zip", ".zip")])  # fmt: skip
def test_export_from_the_database_imports_back_byte_for_byte(
    served: Served, tmp_path: Path, fmt: str, suffix: str
) -> None:
    stored = raws(db_of(served))
    fresh = export_then_import(tmp_path, ["--db", str(db_of(served))], fmt, suffix)
    assert raws(fresh) == stored and len(stored) == len(MESSAGES) + 1


@pytest.mark.parametrize(("fmt", "suffix"), [("mbox", ".mbox"), ("maildir", ""), ("eml", ""),
                                             ("zip", ".zip")])  # fmt: skip
def test_export_through_the_api_imports_back_byte_for_byte(
    served: Served, tmp_path: Path, fmt: str, suffix: str
) -> None:
    stored = raws(db_of(served))
    fresh = export_then_import(tmp_path, ["--url", served.url], fmt, suffix)
    assert raws(fresh) == stored


def test_import_through_the_api_keeps_every_byte(served: Served, tmp_path: Path) -> None:
    stored = raws(db_of(served))
    out = tmp_path / "out.mbox"
    assert main(["export", str(out), "--db", str(db_of(served)), "--quiet"]) == 0
    target = Served(db=tmp_path / "target.db")
    try:
        assert main(["import", str(out), "--url", target.url, "--quiet"]) == 0
        assert raws(db_of(target)) == stored
        [session] = [s for s in target.store.list_sessions() if s.kind == "import"]
        assert str(out) in session.peer
    finally:
        target.stop()


def test_mbox_keeps_the_time_and_sender_of_each_message(served: Served, tmp_path: Path) -> None:
    fresh = export_then_import(tmp_path, ["--db", str(db_of(served))], "mbox", ".mbox")
    before, after = SQLiteStore(db_of(served)), SQLiteStore(fresh)
    try:
        old, new = before.export_messages(), after.export_messages()
        assert [m.mail_from for m in new] == [m.mail_from for m in old]
        assert [m.received_at[:19] for m in new] == [m.received_at[:19] for m in old]
    finally:
        before.close()
        after.close()


def test_query_chooses_what_is_exported(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "some.mbox"
    db = str(db_of(served))
    assert main(["export", str(out), "--db", db, "--query", "subject:quoting", "--quiet"]) == 0
    fresh = tmp_path / "fresh.db"
    assert main(["import", str(out), "--db", str(fresh), "--quiet"]) == 0
    assert [r.split(b"Subject: ")[1][:7] for r in raws(fresh)] == [b"quoting"]


def test_inbox_chooses_what_is_exported(served: Served, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(b"Subject: elsewhere\r\n\r\nx\r\n")
    db = str(db_of(served))  # served: imports go through the server, exports read the file
    assert main(["import", str(eml), "--url", served.url, "--inbox", "team", "--quiet"]) == 0
    out = tmp_path / "team.zip"
    assert main(["export", str(out), "--db", db, "--inbox", "team", "--quiet"]) == 0
    fresh = tmp_path / "fresh.db"
    assert main(["import", str(out), "--db", str(fresh), "--quiet"]) == 0
    assert raws(fresh) == [eml.read_bytes()]


def test_sessions_are_exported_as_json_lines(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "with-sessions.zip"
    assert main(["export", str(out), "--db", str(db_of(served)), "--sessions", "--quiet"]) == 0
    with zipfile.ZipFile(out) as archive:
        lines = archive.read("sessions.jsonl").decode().splitlines()
        assert len([n for n in archive.namelist() if n.endswith(".eml")]) == len(MESSAGES) + 1
    sessions = [json.loads(line) for line in lines]
    assert sessions and all(s["kind"] == "smtp" for s in sessions)
    assert any(
        entry["line"].lower().startswith("mail from") for s in sessions for entry in s["transcript"]
    )


def test_importing_the_same_file_twice_skips_the_duplicates(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mbox"
    assert main(["export", str(out), "--db", str(db_of(served)), "--quiet"]) == 0
    fresh = tmp_path / "fresh.db"
    assert main(["import", str(out), "--db", str(fresh)]) == 0
    assert main(["import", str(out), "--db", str(fresh)]) == 0
    assert main(["import", str(out), "--db", str(fresh), "--keep-duplicates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    total = len(MESSAGES) + 1
    assert lines[-3:] == [
        f"imported {total}, skipped 0 duplicates, failed 0",
        f"imported 0, skipped {total} duplicates, failed 0",
        f"imported {total}, skipped 0 duplicates, failed 0",
    ]
    assert len(raws(fresh)) == 2 * total


def test_imported_messages_get_warnings_a_session_and_become_searchable(
    tmp_path: Path,
) -> None:
    mbox = tmp_path / "in.mbox"
    mbox.write_bytes(b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: findme zebra\n"
                     b"\nbare lf body\n\n")  # fmt: skip
    db = tmp_path / "mail.db"
    assert main(["import", str(mbox), "--db", str(db), "--inbox", "old", "--quiet"]) == 0
    served = Served(db=db)  # a server on the database indexes what was imported
    try:
        found = until(lambda: served.get("/api/v1/messages", query="zebra").json()["messages"])
        [summary] = found
        full = served.get(f"/api/v1/messages/{summary['id']}").json()
        assert summary["inbox"] == "old" and summary["received_at"] == "2024-01-01T10:00:00.000Z"
        assert {"bare-line-ending", "missing-date", "missing-message-id"} <= {
            w["code"] for w in full["warnings"]
        }
        session = served.get(f"/api/v1/sessions/{summary['session_id']}").json()
        assert session["kind"] == "import" and session["peer"] == str(mbox)
        assert session["transcript"][-1]["line"] == "imported 1, skipped 0 duplicates, failed 0"
    finally:
        served.stop()


def test_export_refuses_to_write_over_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken.mbox"
    out.write_bytes(b"keep me")
    assert main(["export", str(out), "--db", str(tmp_path / "none.db")]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"


def test_config_default_db_is_used_for_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    eml = tmp_path / "one.eml"
    eml.write_bytes(b"Subject: x\r\n\r\ny\r\n")
    assert main(["import", str(eml), "--quiet"]) == 0
    assert raws(tmp_path / "mailtrap-lite" / "mail.db") == [eml.read_bytes()]
    assert Config().db is None

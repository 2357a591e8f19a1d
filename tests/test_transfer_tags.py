"""`mailtrap-lite import --tag T`: the imported messages carry the tags, into a database
(through the Store) and into a running server (through `POST /api/v1/import?tag=`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.cli import main
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served

MBOX = (
    b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: first\nMessage-ID: <1@x>\n\none\n\n"
    b"From b@example.com Mon Jan  1 11:00:00 2024\nSubject: second\nMessage-ID: <2@x>\n\ntwo\n"
)


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    path = tmp_path / "old.mbox"
    path.write_bytes(MBOX)
    return path


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Served]:
    server = Served(db=tmp_path / "target.db")
    yield server
    server.stop()


def tags_in(db: Path) -> list[list[str]]:
    store = SQLiteStore(db)
    try:
        return [m.tags for m in reversed(store.list_messages().messages)]
    finally:
        store.close()


def test_import_into_the_database_tags_every_message(mbox: Path, tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    assert main(["import", str(mbox), "--db", str(db), "--tag", "legacy",
                 "--tag", "from mbox", "--quiet"]) == 0  # fmt: skip
    assert tags_in(db) == [["from mbox", "legacy"], ["from mbox", "legacy"]]


def test_import_through_the_api_tags_every_message(mbox: Path, target: Served) -> None:
    assert main(["import", str(mbox), "--url", target.url, "--tag", "legacy",
                 "--tag", "from mbox", "--quiet"]) == 0  # fmt: skip
    summaries = target.get("/api/v1/messages", query="tag:legacy").json()["messages"]
    assert [m["tags"] for m in summaries] == [["from mbox", "legacy"], ["from mbox", "legacy"]]
    assert target.get("/api/v1/tags").json()["tags"] == [
        {"name": "from mbox", "total": 2, "unread": 2},
        {"name": "legacy", "total": 2, "unread": 2},
    ]


def test_import_tags_come_from_their_variable_too(
    mbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server's MAILTRAP_LITE_TAG (NAME=QUERY rules) is not read by import
    monkeypatch.setenv("MAILTRAP_LITE_TAG", "urgent=subject:urgent")
    monkeypatch.setenv("MAILTRAP_LITE_IMPORT_TAG", "legacy, old")
    db = tmp_path / "mail.db"
    assert main(["import", str(mbox), "--db", str(db), "--quiet"]) == 0
    assert tags_in(db) == [["legacy", "old"], ["legacy", "old"]]


def test_a_bad_tag_name_is_a_usage_error_and_imports_nothing(
    mbox: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "mail.db"
    assert main(["import", str(mbox), "--db", str(db), "--tag", "no/slash"]) == 2
    assert "--tag: bad tag 'no/slash'" in capsys.readouterr().err
    assert not db.exists()


def test_the_import_route_refuses_a_bad_tag_before_storing(target: Served) -> None:
    reply = target.request("POST", "/api/v1/import", {"tag": "a;b", "filename": "x.mbox"},
                           raw=MBOX)  # fmt: skip
    assert reply.status == 400
    assert reply.json()["error"].startswith("tag: bad tag 'a;b'")
    assert target.store.count_messages() == 0

"""GET /api/v1/export and POST /api/v1/import over a real web server."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator

import pytest

from tests.apiserver import Served, make_message, until
from tests.backends import Backend

pytestmark = pytest.mark.backends


@pytest.fixture
def served(backend: Backend) -> Iterator[Served]:
    with backend.settings() as database:
        server = Served(**database)
        for n in range(3):
            server.send(make_message(f"number {n}", f"From line {n}\n", Message_ID=f"<{n}@x>"))
        until(lambda: server.store.stats()["unindexed"] == 0)
        yield server
        server.stop()


def _raws(served: Served) -> list[bytes]:
    return [m.raw for m in served.store.export_messages()]


def test_export_is_a_safe_download_of_every_message(served: Served) -> None:
    reply = served.get("/api/v1/export")
    assert reply.status == 200
    assert reply.headers["Content-Disposition"].startswith(
        'attachment; filename="mailtrap-lite-export.mbox"'
    )
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.body.count(b"\nFrom ") + reply.body.startswith(b"From ") == 3
    assert b"\n>From line 0\n" in reply.body  # mboxrd quoting


def test_export_zip_holds_the_matches_of_the_query(served: Served) -> None:
    reply = served.get("/api/v1/export", format="zip", query="subject:number -subject:1")
    with zipfile.ZipFile(io.BytesIO(reply.body)) as archive:
        names = archive.namelist()
        assert [archive.read(n) for n in names] == [_raws(served)[0], _raws(served)[2]]


def test_export_of_chosen_ids_is_the_ui_selection(served: Served) -> None:
    first, _, third = served.store.export_messages()
    reply = served.get("/api/v1/export", ids=f"{third.id},{first.id}", format="zip")
    with zipfile.ZipFile(io.BytesIO(reply.body)) as archive:
        assert archive.namelist() == [f"{first.id}.eml", f"{third.id}.eml"]


def test_import_of_our_export_into_another_server_keeps_every_byte(
    served: Served, backend: Backend
) -> None:
    exported = served.get("/api/v1/export", format="zip").body
    with backend.settings() as database:
        _import_into_another(Served(**database), served, exported)


def test_importing_our_export_again_skips_every_message(served: Served) -> None:
    exported = served.get("/api/v1/export", format="zip").body
    reply = served.request("POST", "/api/v1/import", {"filename": "x.zip"}, raw=exported)
    answer = reply.json()
    assert (answer["imported"], answer["skipped"], answer["failed"]) == (0, 3, [])
    assert len(_raws(served)) == 3


def _import_into_another(other: Served, served: Served, exported: bytes) -> None:
    try:
        reply = other.request("POST", "/api/v1/import", {"filename": "x.zip", "inbox": "moved"},
                              raw=exported)  # fmt: skip
        assert reply.status == 200
        answer = reply.json()
        assert (answer["imported"], answer["skipped"], answer["failed"]) == (3, 0, [])
        assert _raws(other) == _raws(served)
        assert {m.inbox for m in other.store.export_messages()} == {"moved"}
    finally:
        other.stop()


def test_import_as_a_form_upload_reports_bad_messages_by_position(served: Served) -> None:
    boundary = uuid.uuid4().hex
    mbox = (b"From a Mon Jan  1 00:00:00 2024\nSubject: fine\n\nok\n\n"
            b"From b Mon Jan  1 00:00:00 2024\nSubject: cut\n")  # fmt: skip
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mbox\""
            f"\r\nContent-Type: application/mbox\r\n\r\n").encode() + mbox + (
        f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
    form = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    reply = served.request("POST", "/api/v1/import", raw=body, headers=form)
    answer = reply.json()
    assert answer["imported"] == 1
    assert answer["failed"] == [{"where": "a.mbox: message 2 (line 6)", "kind": "truncated",
                                 "reason": "truncated: the file ends inside its header",
                                 "ordinal": 2}]  # fmt: skip
    [session_id] = answer["session_ids"]
    assert served.get(f"/api/v1/sessions/{session_id}").json()["kind"] == "import"

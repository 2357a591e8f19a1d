"""Migration from Mailpit and MailHog: stub servers answer their list and raw routes with the
shapes their documentation gives, and every message comes over with its bytes, oldest first."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mailtrap_lite.cli import main
from mailtrap_lite.store.sqlite import SQLiteStore

# Newest first, as both list them.
MESSAGES = [
    (f"id{n:02d}", f"2024-03-0{1 + n % 9}T10:00:{n:02d}.123456789Z",
     f"From: s{n}@example.com\r\nTo: r{n}@example.com\r\nSubject: number {n}\r\n"
     f"Message-ID: <{n}@example.com>\r\n\r\nbody {n}\r\n".encode())
    for n in range(7, 0, -1)
]  # fmt: skip


def mailpit_answer(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    """Answer GET /api/v1/messages?start&limit and /api/v1/message/ID/raw as Mailpit does."""
    if path == "/api/v1/messages":
        start, limit = int(query["start"][0]), int(query["limit"][0])
        page = MESSAGES[start : start + limit]
        summaries = [{"ID": i, "MessageID": f"{i}@example.com", "Read": False, "From": None,
                      "To": [], "Cc": [], "Bcc": [], "ReplyTo": [], "Subject": "",
                      "Created": created, "Username": "", "Tags": [], "Size": len(raw),
                      "Attachments": 0, "Snippet": ""} for i, created, raw in page]  # fmt: skip
        body = {"total": len(MESSAGES), "unread": len(MESSAGES), "count": len(page),
                "messages_count": len(MESSAGES), "messages_unread": len(MESSAGES),
                "start": start, "tags": [], "messages": summaries}  # fmt: skip
        return 200, "application/json", json.dumps(body).encode()
    for message_id, _, raw in MESSAGES:
        if path == f"/api/v1/message/{message_id}/raw":
            return 200, "message/rfc822", raw
    return 404, "text/plain", b"404 page not found"


def mailhog_answer(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    """Answer GET /api/v2/messages?start&limit as MailHog does (at most 250 a page)."""
    if path != "/api/v2/messages":
        return 404, "text/plain", b"404 page not found"
    start, limit = int(query["start"][0]), min(int(query["limit"][0]), 250)
    page = MESSAGES[start : start + limit]
    items = [{"ID": f"{i}@mailhog.example", "From": {"Relays": None, "Mailbox": "env",
              "Domain": "example.com", "Params": ""}, "To": [],
              "Content": {"Headers": {}, "Body": "", "Size": len(raw), "MIME": None},
              "Created": created.replace("Z", "+01:00"), "MIME": None,
              "Raw": {"From": "env@example.com", "To": ["x@example.com", "y@example.com"],
                      "Data": raw.decode(), "Helo": "client.example"}}
             for i, created, raw in page]  # fmt: skip
    body = {"total": len(MESSAGES), "count": len(items), "start": start, "items": items}
    return 200, "application/json", json.dumps(body).encode()


@pytest.fixture(params=["mailpit", "mailhog"])
def peer(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    answer = mailpit_answer if request.param == "mailpit" else mailhog_answer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            status, kind, body = answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield request.param, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_message_comes_over_oldest_first_with_its_bytes(
    peer: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, url = peer
    monkeypatch.setattr("mailtrap_lite.transfer.peers.MAILPIT_PAGE", 3)  # several pages
    monkeypatch.setattr("mailtrap_lite.transfer.peers.MAILHOG_PAGE", 3)
    db = tmp_path / "mail.db"
    assert main(["import", f"--from-{kind}", url, "--db", str(db), "--quiet"]) == 0
    store = SQLiteStore(db)
    try:
        got = store.export_messages()
        assert [m.raw for m in got] == [raw for _, _, raw in reversed(MESSAGES)]
        oldest = MESSAGES[-1][1]
        expected = oldest[:23] + "Z" if kind == "mailpit" else "2024-03-02T09:00:01.123Z"
        assert got[0].received_at == expected
        if kind == "mailhog":  # MailHog keeps the envelope
            assert got[0].mail_from == "env@example.com"
            assert got[0].rcpt_to == ["x@example.com", "y@example.com"]
        [session] = store.list_sessions()
        assert session.kind == "import" and session.peer == f"{kind} {url}"
    finally:
        store.close()


def test_migrating_twice_skips_what_came_over_before(
    peer: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kind, url = peer
    db = tmp_path / "mail.db"
    assert main(["import", f"--from-{kind}", url, "--db", str(db)]) == 0
    assert main(["import", f"--from-{kind}", url, "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"imported 0, skipped {len(MESSAGES)} duplicates, failed 0"
    )


def test_a_server_that_does_not_answer_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    code = main(["import", "--from-mailpit", f"http://127.0.0.1:{port}", "--db",
                 str(tmp_path / "m.db"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("mailtrap-lite: cannot reach Mailpit at http://127.0.0.1")
    assert len(err.strip().splitlines()) == 1

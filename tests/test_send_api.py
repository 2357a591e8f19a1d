"""POST /api/v1/send: JSON in, a real MIME message stored as if it came over SMTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from mailtrap_lite.mime.body import parse_message
from tests.apiserver import Served
from tests.backends import Backend

pytestmark = pytest.mark.backends

PDF = b"%PDF-1.4 not really\x00\xff"
PNG = b"\x89PNG\r\n\x1a\n tiny"


@pytest.fixture
def served(backend: Backend) -> Iterator[Served]:
    with backend.settings() as database:
        running = Served(max_message_size=20_000, **database)
        yield running
        running.stop()


def full_request() -> dict[str, Any]:
    return {
        "from": {"name": "Shop", "address": "shop@example.com"},
        "to": ["Ann <ann@example.com>"],
        "cc": [{"address": "cc@example.com"}],
        "bcc": ["hidden@example.com"],
        "reply_to": ["help@example.com"],
        "subject": "Your order ✓",
        "text": "Thanks for your order.",
        "html": '<p>Thanks! <img src="cid:logo@shop"></p>',
        "headers": {"X-Campaign": "spring"},
        "attachments": [
            {"filename": "order.pdf", "content_type": "application/pdf",
             "content": base64.b64encode(PDF).decode()},
            {"filename": "logo.png", "content_type": "image/png",
             "content": base64.b64encode(PNG).decode(), "content_id": "logo@shop"},
        ],
        "inbox": "demo",
        "tags": ["seed"],
    }  # fmt: skip


def test_a_sent_message_round_trips_with_its_attachments(served: Served) -> None:
    reply = served.request("POST", "/api/v1/send", body=full_request())
    assert reply.status == 200, reply.body
    message = served.get(f"/api/v1/messages/{reply.json()['id']}").json()
    assert message["subject"] == "Your order ✓"
    assert message["from"] == {"name": "Shop", "address": "shop@example.com"}
    assert [b["address"] for b in message["bcc"]] == ["hidden@example.com"]
    assert message["rcpt_to"] == ["ann@example.com", "cc@example.com", "hidden@example.com"]
    assert (message["inbox"], message["tags"]) == ("demo", ["seed"])
    assert message["text"].strip() == "Thanks for your order."
    assert ["X-Campaign", "spring"] in message["headers"]
    files = {a["filename"]: a for a in message["attachments"]}
    assert files["logo.png"]["inline"] and files["logo.png"]["content_id"] == "logo@shop"
    pdf = served.get(f"/api/v1/messages/{message['id']}/attachments/{files['order.pdf']['index']}")
    assert pdf.body == PDF


def test_bcc_recipients_are_not_written_into_the_headers(served: Served) -> None:
    message_id = served.request("POST", "/api/v1/send", body=full_request()).json()["id"]
    raw = served.get(f"/api/v1/messages/{message_id}/raw").body
    assert b"hidden@example.com" not in raw
    parsed = parse_message(raw)
    assert parsed["Message-ID"] and parsed["Date"]


def test_a_sent_message_has_an_api_session_that_says_how_it_came(served: Served) -> None:
    message_id = served.request("POST", "/api/v1/send", body=full_request()).json()["id"]
    message = served.get(f"/api/v1/messages/{message_id}").json()
    session = served.get(f"/api/v1/sessions/{message['session_id']}").json()
    assert session["kind"] == "api" and session["inbox"] == "demo"
    lines = [e["line"] for e in session["transcript"]]
    assert lines[0] == "<submitted through POST /api/v1/send>"
    assert "RCPT TO:<hidden@example.com>" in lines
    assert lines[-1] == f"250 2.0.0 Ok: queued as {message_id}"


def test_a_minimal_message_needs_only_from_and_to(served: Served) -> None:
    body = {"from": "a@example.com", "to": "b@example.com"}
    reply = served.request("POST", "/api/v1/send", body=body)
    assert reply.status == 200
    message = served.get(f"/api/v1/messages/{reply.json()['id']}").json()
    assert (message["subject"], message["inbox"], message["tags"]) == ("", "default", [])


BAD_FIELDS = [
    ("from", {"from": "not an address"}),
    ("from", {"from": None}),
    ("to", {"to": []}),
    ("to[0]", {"to": ["x"]}),
    ("cc[0]", {"cc": [{"address": 5}]}),
    ("subject", {"subject": "two\nlines"}),
    ("text", {"text": 5}),
    ("headers.Bcc", {"headers": {"Bcc": "x@example.com"}}),
    ("headers.X-Bad", {"headers": {"X-Bad": "a\r\nInjected: yes"}}),
    ("attachments[0].content", {"attachments": [{"filename": "a", "content": "%%%"}]}),
    ("attachments[0].filename", {"attachments": [{"content": ""}]}),
    ("attachments[0].content_type", {"attachments": [{"filename": "a", "content": "",
                                                      "content_type": "no type"}]}),
    ("inbox", {"inbox": ""}),
    ("tags", {"tags": ["a/b"]}),
]  # fmt: skip


@pytest.mark.parametrize(("field", "change"), BAD_FIELDS, ids=[f for f, _ in BAD_FIELDS])
def test_a_bad_field_is_a_400_naming_it(served: Served, field: str, change: dict) -> None:
    body = {"from": "a@example.com", "to": ["b@example.com"], **change}
    reply = served.request("POST", "/api/v1/send", body=body)
    assert reply.status == 400
    assert reply.json()["error"].startswith(f"{field}: ")
    assert served.get("/api/v1/messages").json()["total"] == 0


def test_a_body_that_is_not_json_is_a_400(served: Served) -> None:
    reply = served.request("POST", "/api/v1/send", body=None, headers={"Content-Type": "x"})
    assert reply.status == 400


def test_a_message_over_the_smtp_size_limit_is_a_413(served: Served) -> None:
    body = {"from": "a@example.com", "to": ["b@example.com"], "text": "x" * 30_000}
    reply = served.request("POST", "/api/v1/send", body=body)
    assert reply.status == 413
    assert served.get("/api/v1/messages").json()["total"] == 0

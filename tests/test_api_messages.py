"""Message routes of the JSON API, over a real server (waitress) and Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, index_all, make_message, store_message, stored_app, until

SUMMARY_FIELDS = set(
    "id inbox received_at mail_from rcpt_to from to cc subject size attachment_count read"
    " snippet session_id tags".split()
)
FULL_FIELDS = SUMMARY_FIELDS | set(
    "message_id date reply_to bcc headers text html attachments links warnings".split()
    # additions of the read model
    + "headers_cut parts omitted_parts link_details".split()
    + ["releases"]
)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = SQLiteStore()
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> FlaskClient:
    return stored_app(store).test_client()


def fill(store: Store, count: int, inbox: str = "default") -> list[int]:
    ids = [store_message(store, make_message(f"m{i}").as_bytes(), inbox=inbox)
           for i in range(count)]  # fmt: skip
    index_all(store)
    return ids


def rich_message() -> bytes:
    msg = make_message("Welcome", "Hi! Confirm at https://app.example.com/confirm?t=1.\n",
                       To="Ann <ann@example.com>", Cc="cc@example.com",
                       Reply_To="Help <help@example.com>", Date="Fri, 10 May 2024 12:00:00 +0200",
                       Message_ID="<welcome-1@example.com>")  # fmt: skip
    msg.add_alternative(
        '<p><a href="https://app.example.com/confirm?t=1&amp;x=2">Confirm</a></p>', subtype="html"
    )
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf",
                       filename="terms.pdf")  # fmt: skip
    return msg.as_bytes().replace(b"\n", b"\r\n")


def test_list_is_newest_first_and_total_counts_every_match(client: FlaskClient, store: Store):
    ids = fill(store, 5)
    body = client.get("/api/v1/messages?limit=2").json
    assert body["total"] == 5
    assert [m["id"] for m in body["messages"]] == [str(ids[4]), str(ids[3])]
    assert set(body["messages"][0]) == SUMMARY_FIELDS


def test_before_cursor_pages_through_the_list(client: FlaskClient, store: Store) -> None:
    ids = fill(store, 5)
    body = client.get(f"/api/v1/messages?limit=2&before={ids[3]}").json
    assert body["total"] == 5
    assert [m["id"] for m in body["messages"]] == [str(ids[2]), str(ids[1])]


def test_inbox_parameter_lists_one_inbox(client: FlaskClient, store: Store) -> None:
    fill(store, 2)
    [team] = fill(store, 1, inbox="team")
    body = client.get("/api/v1/messages?inbox=team").json
    assert body["total"] == 1 and body["messages"][0]["id"] == str(team)


def test_full_message_has_every_field_decoded(served: Served) -> None:
    served.send(rich_message(), to=["ann@example.com", "cc@example.com", "hidden@example.com"])
    [summary] = until(lambda: served.get("/api/v1/wait").json()["messages"])
    message = served.get(f"/api/v1/messages/{summary['id']}").json()
    assert set(message) == FULL_FIELDS
    assert message["bcc"] == [{"name": None, "address": "hidden@example.com"}]
    assert message["reply_to"] == [{"name": "Help", "address": "help@example.com"}]
    assert message["date"] == "2024-05-10T10:00:00.000Z"
    assert message["message_id"] == "<welcome-1@example.com>"
    assert ["Subject", "Welcome"] in message["headers"]
    assert message["text"].startswith("Hi! Confirm")
    assert "<a href" in message["html"]
    assert message["links"] == ["https://app.example.com/confirm?t=1&x=2",
                                "https://app.example.com/confirm?t=1"]  # fmt: skip
    assert message["attachments"] == [{"index": 0, "part": "2", "filename": "terms.pdf",
                                       "content_type": "application/pdf", "size": 13,
                                       "inline": False, "content_id": None}]  # fmt: skip
    assert [p["part"] for p in message["parts"]["children"]] == ["1", "2"]
    assert {(d["url"], d["kind"]) for d in message["link_details"]} == {
        (url, "web") for url in message["links"]
    }
    assert message["session_id"] is not None and isinstance(message["session_id"], str)


def test_raw_returns_the_exact_bytes_received(served: Served) -> None:
    raw = rich_message()
    served.send(raw)
    [summary] = until(lambda: served.get("/api/v1/wait").json()["messages"])
    reply = served.get(f"/api/v1/messages/{summary['id']}/raw")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "message/rfc822"
    assert reply.body == raw
    assert summary["size"] == len(raw)


def test_attachment_is_a_download_of_its_decoded_bytes(served: Served) -> None:
    served.send(rich_message())
    [summary] = until(lambda: served.get("/api/v1/wait").json()["messages"])
    reply = served.get(f"/api/v1/messages/{summary['id']}/attachments/0")
    assert reply.status == 200
    assert reply.body == b"%PDF-1.4 fake"
    # the sender's type could be one a page runs (a script); the JSON has it as sent
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers["Content-Disposition"] == (
        "attachment; filename=\"terms.pdf\"; filename*=UTF-8''terms.pdf"
    )
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]


def test_attachment_name_cannot_climb_out_of_the_download_folder(client, store) -> None:
    msg = make_message()
    msg.add_attachment(b"x", maintype="text", subtype="plain", filename="../../etc/passwd")
    message_id = store_message(store, msg.as_bytes())
    reply = client.get(f"/api/v1/messages/{message_id}/attachments/0")
    assert reply.headers["Content-Disposition"] == (
        "attachment; filename=\"etc_passwd\"; filename*=UTF-8''etc_passwd"
    )


def test_viewing_a_message_does_not_mark_it_read(client: FlaskClient, store: Store) -> None:
    [message_id] = fill(store, 1)
    assert client.get(f"/api/v1/messages/{message_id}").json["read"] is False
    assert client.get("/api/v1/messages").json["messages"][0]["read"] is False


@pytest.mark.parametrize("read", [True, False])
def test_patch_sets_the_read_flag(client: FlaskClient, store: Store, read: bool) -> None:
    [message_id] = fill(store, 1)
    store.set_read(message_id, not read)
    reply = client.patch(f"/api/v1/messages/{message_id}", json={"read": read})
    assert reply.status_code == 200 and reply.json["read"] is read
    assert client.get(f"/api/v1/messages/{message_id}").json["read"] is read


@pytest.mark.parametrize(
    ("body", "content_type", "pointer"),
    [
        (b"not json", "application/json", "expected a JSON object"),
        (b"[]", "application/json", "expected a JSON object"),
        (b"{}", "application/json", "expected a JSON object"),
        (b'{"read": "yes"}', "application/json", "read must be true or false"),
        (b'{"colour": "red"}', "application/json", "cannot change 'colour'"),
        (b'{"read": true}', "text/plain", "expected a JSON object"),
    ],
)
def test_patch_rejects_bad_bodies(client, store, body: bytes, content_type: str, pointer: str):
    [message_id] = fill(store, 1)
    reply = client.patch(f"/api/v1/messages/{message_id}", data=body, content_type=content_type)
    assert reply.status_code == 400 and pointer in reply.json["error"]


def test_delete_removes_one_message(client: FlaskClient, store: Store) -> None:
    first, second = fill(store, 2)
    assert client.delete(f"/api/v1/messages/{first}").json == {"deleted": 1}
    assert client.get(f"/api/v1/messages/{first}").status_code == 404
    assert [m["id"] for m in client.get("/api/v1/messages").json["messages"]] == [str(second)]


def test_delete_by_query_removes_only_matches(client: FlaskClient, store: Store) -> None:
    fill(store, 3)
    assert client.delete("/api/v1/messages?query=subject:m1").json == {"deleted": 1}
    subjects = [m["subject"] for m in client.get("/api/v1/messages").json["messages"]]
    assert subjects == ["m2", "m0"]


def test_delete_by_inbox_keeps_other_inboxes(client: FlaskClient, store: Store) -> None:
    fill(store, 2)
    fill(store, 1, inbox="team")
    assert client.delete("/api/v1/messages?inbox=default").json == {"deleted": 2}
    assert client.get("/api/v1/messages").json["total"] == 1


def test_delete_with_all_true_removes_everything(client, store) -> None:
    fill(store, 3)
    assert client.delete("/api/v1/messages?all=true").json == {"deleted": 3}
    assert client.get("/api/v1/messages").json == {"total": 0, "messages": []}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/messages/999"),
        ("GET", "/api/v1/messages/abc"),
        ("GET", "/api/v1/messages/-1"),
        ("GET", "/api/v1/messages/999/raw"),
        ("GET", "/api/v1/messages/999/attachments/0"),
        ("GET", "/api/v1/messages/{id}/attachments/7"),
        ("GET", "/api/v1/messages/{id}/attachments/x"),
        ("PATCH", "/api/v1/messages/999"),
        ("DELETE", "/api/v1/messages/999"),
        ("GET", "/api/v1/sessions/999"),
        ("GET", "/api/v1/sessions/abc"),
        ("GET", "/api/v1/no-such-route"),
    ],
)
def test_unknown_ids_and_routes_are_json_404(client, store, method: str, path: str) -> None:
    [message_id] = fill(store, 1)
    reply = client.open(path.format(id=message_id), method=method, json={"read": True})
    assert reply.status_code == 404
    assert reply.is_json and reply.json["error"]


@pytest.mark.parametrize(
    "params",
    ["limit=-1", "limit=abc", "limit=1001", "before=x", "after=1.5", "before=-3"],
)
def test_bad_list_parameters_are_400(client: FlaskClient, params: str) -> None:
    reply = client.get(f"/api/v1/messages?{params}")
    assert reply.status_code == 400
    assert params.split("=")[0] in reply.json["error"]


def test_wrong_method_is_json_405_with_allow(client: FlaskClient) -> None:
    reply = client.put("/api/v1/messages")
    assert reply.status_code == 405
    assert reply.json["error"] and "DELETE" in reply.headers["Allow"]


@pytest.mark.parametrize("query", ["subject:alpha", "alpha", "alpha is:unread"])
def test_search_pages_with_before_and_after(client: FlaskClient, store: Store, query: str):
    ids = [store_message(store, make_message(f"alpha {i}").as_bytes()) for i in range(5)]
    store_message(store, make_message("beta").as_bytes())
    index_all(store)
    page = client.get("/api/v1/messages", query_string={"query": query, "limit": 2,
                                                          "before": ids[4]}).json  # fmt: skip
    assert page["total"] == 5
    assert [m["id"] for m in page["messages"]] == [str(ids[3]), str(ids[2])]
    newer = client.get("/api/v1/messages", query_string={"query": query, "after": ids[2]}).json
    assert newer["total"] == 2
    assert [m["id"] for m in newer["messages"]] == [str(ids[4]), str(ids[3])]

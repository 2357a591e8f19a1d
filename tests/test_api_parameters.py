"""Parameters of the JSON API: unknown ones are 400, and nothing is deleted by accident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, index_all, make_message, store_message, stored_app, until


@pytest.fixture
def store() -> Iterator[Store]:
    opened = SQLiteStore()
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> FlaskClient:
    for n in range(3):
        store_message(store, make_message(f"m{n}").as_bytes())
    index_all(store)
    return stored_app(store).test_client()


def total(client: FlaskClient) -> int:
    count: int = client.get("/api/v1/messages").json["total"]
    return count


ROUTES = [
    ("GET", "/api/v1/messages"),
    ("DELETE", "/api/v1/messages"),
    ("GET", "/api/v1/messages/1"),
    ("GET", "/api/v1/messages/1/raw"),
    ("GET", "/api/v1/messages/1/attachments/0"),
    ("PATCH", "/api/v1/messages/1"),
    ("DELETE", "/api/v1/messages/1"),
    ("GET", "/api/v1/wait"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/sessions"),
    ("GET", "/api/v1/sessions/1"),
    ("GET", "/api/v1/inboxes"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/faults"),
    ("PUT", "/api/v1/faults"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_unknown_parameter_is_400_on_every_route(client: FlaskClient, method: str, path: str):
    reply = client.open(f"{path}?qeury=x", method=method, json={"read": True})
    assert reply.status_code == 400
    assert "unknown parameter 'qeury'" in reply.json["error"]
    assert total(client) == 3


def test_the_400_lists_the_parameters_the_route_takes(client: FlaskClient) -> None:
    error = client.delete("/api/v1/messages?qeury=x").json["error"]
    assert error.endswith("takes all, inbox, query")


def test_a_parameter_given_twice_is_400(client: FlaskClient) -> None:
    reply = client.delete("/api/v1/messages?query=subject:m1&query=subject:m2")
    assert reply.status_code == 400
    assert total(client) == 3


@pytest.mark.parametrize("params", ["", "?query=", "?inbox=", "?query=&inbox=", "?query=%20",
                                    "?all=false"])  # fmt: skip
def test_delete_without_query_inbox_or_all_is_400_and_deletes_nothing(
    client: FlaskClient, params: str
) -> None:
    reply = client.delete(f"/api/v1/messages{params}")
    assert reply.status_code == 400
    assert "all=true" in reply.json["error"]
    assert total(client) == 3


def test_delete_with_a_body_is_400_and_deletes_nothing(client: FlaskClient) -> None:
    reply = client.delete("/api/v1/messages", json={"IDs": ["2"]})  # Mailpit's request
    assert reply.status_code == 400
    assert "DELETE /api/v1/messages/ID" in reply.json["error"]
    assert client.delete("/api/v1/messages?all=true", json={"IDs": ["2"]}).status_code == 400
    assert total(client) == 3


def test_delete_with_a_bad_all_value_is_400(client: FlaskClient) -> None:
    assert client.delete("/api/v1/messages?all=yes").status_code == 400
    assert total(client) == 3


def test_delete_all_true_with_a_query_deletes_only_the_matches(client: FlaskClient) -> None:
    assert client.delete("/api/v1/messages?all=true&query=subject:m1").json == {"deleted": 1}
    assert total(client) == 2


def test_an_empty_query_or_inbox_counts_as_absent_in_lists(client: FlaskClient) -> None:
    assert client.get("/api/v1/messages?query=&inbox=").json["total"] == 3


def test_ui_pages_ignore_unknown_parameters(client: FlaskClient) -> None:
    assert client.get("/?utm_source=newsletter").status_code == 200
    assert client.get("/messages/1?utm_campaign=x&fbclid=y").status_code == 200
    assert client.get("/sessions?ref=mail").status_code == 200


def test_mailpit_style_delete_over_a_real_server_keeps_the_store(served: Served) -> None:
    for n in range(2):
        served.send(make_message(f"kept {n}"))
    until(lambda: served.get("/api/v1/messages").json()["total"] == 2)
    reply = served.request("DELETE", "/api/v1/messages", body={"IDs": ["2"]})
    assert reply.status == 400
    assert served.request("DELETE", "/api/v1/messages", {"qeury": "x"}).status == 400
    assert served.get("/api/v1/messages").json()["total"] == 2


@pytest.mark.parametrize(
    "path",
    ["/api/v1/messages/%C2%B2", "/api/v1/messages/%D9%A1", "/api/v1/messages/%EF%BC%91",
     "/api/v1/messages/99999999999999999999", "/api/v1/sessions/%D9%A1",
     "/api/v1/messages/1/attachments/%D9%A0", "/messages/%D9%A1", "/messages/%C2%B2",
     "/messages/99999999999999999999", "/sessions/%D9%A1"],
)  # fmt: skip
def test_ids_other_than_ascii_digits_in_range_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "params",
    ["before=99999999999999999999999", "after=%C2%B2", "limit=%D9%A1",
     "query=after:0001-01-01T00:00:00%2B14:00", "query=before:9999-12-31T23:59:59-14:00",
     "query=larger:99999999999999999999G", "query=smaller:1e400"],
)  # fmt: skip
def test_numbers_and_dates_out_of_range_are_400(client: FlaskClient, params: str) -> None:
    reply = client.get(f"/api/v1/messages?{params}")
    assert reply.status_code == 400
    assert reply.json["error"]

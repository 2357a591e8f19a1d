"""Fault rules over HTTP: read them, replace them, and see a real client meet them."""

from __future__ import annotations

import smtplib

import pytest

from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, stored_app


def _send(served: Served, to: str) -> None:
    with smtplib.SMTP(served.sink.host, served.sink.port) as client:
        client.sendmail("app@example.com", [to], b"Subject: f\r\n\r\nx\r\n")


def test_no_rules_at_first(served: Served) -> None:
    reply = served.get("/api/v1/faults")
    assert reply.status == 200 and reply.json() == {"rules": []}


def test_put_rules_then_a_client_meets_them_and_they_count(served: Served) -> None:
    rules = [
        {"rule": "rcpt:to=*@bounce.test:550 5.1.1 No such user"},
        {"stage": "mail", "action": "reply", "reply": "451 4.3.0 Later", "from": "x@*"},
    ]
    reply = served.request("PUT", "/api/v1/faults", body={"rules": rules})
    assert reply.status == 200
    assert [r["rule"] for r in reply.json()["rules"]] == [
        "rcpt:to=*@bounce.test:550 5.1.1 No such user",
        "mail:from=x@*:451 4.3.0 Later",
    ]
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(served, "gone@bounce.test")
    _send(served, "fine@example.com")
    fired = [r["fired"] for r in served.get("/api/v1/faults").json()["rules"]]
    assert fired == [1, 0]


def test_a_bare_list_is_accepted_and_empty_clears(served: Served) -> None:
    served.request("PUT", "/api/v1/faults", body=[{"rule": "data:drop"}])
    assert len(served.get("/api/v1/faults").json()["rules"]) == 1
    served.request("PUT", "/api/v1/faults", body=[])
    assert served.get("/api/v1/faults").json()["rules"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rules": [{"rule": "nowhere:550 x"}]}, "fault rule 0"),
        ({"rules": [{"stage": "rcpt", "action": "reply", "reply": "250 ok"}]}, "fault rule 0"),
        ({"rules": "rcpt:drop"}, "must be a JSON list"),
        ("not json at all", "must be a JSON list"),
    ],
)
def test_bad_rules_are_400_and_change_nothing(served: Served, body: object, message: str) -> None:
    served.request("PUT", "/api/v1/faults", body={"rules": [{"rule": "eom:drop"}]})
    reply = served.request("PUT", "/api/v1/faults", body=body)
    assert reply.status == 400 and message in reply.json()["error"]
    assert [r["rule"] for r in served.get("/api/v1/faults").json()["rules"]] == ["eom:drop"]


def test_an_app_without_an_smtp_server_has_no_faults() -> None:
    store = SQLiteStore()
    try:
        reply = stored_app(store).test_client().get("/api/v1/faults")
        assert reply.status_code == 404 and "no SMTP listener" in reply.json["error"]
    finally:
        store.close()

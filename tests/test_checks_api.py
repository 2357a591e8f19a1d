"""GET /api/v1/messages/ID/checks over a real server: the shape, the order, the cache."""

from __future__ import annotations

import json

from tests.apiserver import Served, make_message
from tests.checkmail import clean_message, crlf
from tests.process import run_cli


def _first_id(served: Served) -> str:
    return str(served.get("/api/v1/messages").json()["messages"][0]["id"])


def test_report_lists_failing_checks_first_with_counts(served: Served) -> None:
    served.send(make_message("Welcome {{ name }}"))  # no Date, no Message-ID, a placeholder
    reply = served.get(f"/api/v1/messages/{_first_id(served)}/checks")
    assert reply.status == 200
    report = reply.json()
    statuses = [c["status"] for c in report["checks"]]
    assert statuses == sorted(statuses, key=["fail", "warn", "info", "pass"].index)
    failing = {c["id"] for c in report["checks"] if c["status"] == "fail"}
    assert failing == {"format.date", "format.message-id", "content.placeholders"}
    assert report["summary"] == {
        status: statuses.count(status) for status in ("fail", "warn", "pass")
    }
    for found in report["checks"]:
        assert set(found) == {"id", "category", "status", "title", "detail", "reference"}
        assert found["id"].startswith(found["category"] + ".") and found["reference"]


def test_unknown_or_malformed_id_is_404(served: Served) -> None:
    assert served.get("/api/v1/messages/999999/checks").status == 404
    assert served.get("/api/v1/messages/abc/checks").status == 404


def test_report_is_computed_once_per_message(served: Served) -> None:
    served.send(crlf(clean_message()))
    message_id = _first_id(served)
    first = served.get(f"/api/v1/messages/{message_id}/checks").json()
    computed = served.sink.reports.computed
    again = served.get(f"/api/v1/messages/{message_id}/checks").json()
    assert again == first
    assert served.sink.reports.computed == computed


def test_deleted_message_has_no_report(served: Served) -> None:
    served.send(crlf(clean_message()))
    message_id = _first_id(served)
    assert served.get(f"/api/v1/messages/{message_id}/checks").status == 200
    assert served.request("DELETE", f"/api/v1/messages/{message_id}").status == 200
    assert served.get(f"/api/v1/messages/{message_id}/checks").status == 404


def test_cli_json_has_the_api_shape_for_the_same_message(served: Served, tmp_path) -> None:
    raw = crlf(make_message("Welcome {{ name }}"))
    served.send(raw)
    api = served.get(f"/api/v1/messages/{_first_id(served)}/checks").json()
    path = tmp_path / "welcome.eml"
    path.write_bytes(raw)
    result = run_cli("check", "--format", "json", str(path))
    [cli] = json.loads(result.stdout)["files"]
    assert set(cli) == {"file", *api}
    assert set(cli["summary"]) == set(api["summary"])
    offline = [c for c in api["checks"] if c["category"] != "transport"]
    from_file = [c for c in cli["checks"] if c["category"] != "transport"]
    assert from_file == offline  # only the session differs between a file and captured mail


def test_mailpit_sa_check_is_404_without_spamd(served: Served) -> None:
    served.send(crlf(clean_message()))
    message_id = _first_id(served)
    assert served.get(f"/compat/mailpit/api/v1/message/{message_id}/sa-check").status == 404
    assert served.get("/compat/mailpit/api/v1/webui").json()["SpamAssassin"] is False

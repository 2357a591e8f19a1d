"""The OpenAPI document at /api/v1/openapi.json stays true: every documented response of every
route is produced by a real server and checked against its schema."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mailtrap_lite.testing import Sink
from mailtrap_lite.web import create_app
from mailtrap_lite.web.api.params import ACCEPTED
from tests.apiserver import Reply, Served, index_all, make_message, store_message, until

Call = Callable[[Served, dict[str, str]], Reply]


def _get(path: str, **params: Any) -> Call:
    return lambda s, ids: s.request("GET", path.format(**ids), params)


def _send(method: str, path: str, body: Any = None, **params: Any) -> Call:
    return lambda s, ids: s.request(method, path.format(**ids), params, body)


def _upload(body: bytes, **params: Any) -> Call:
    return lambda s, ids: s.request("POST", "/api/v1/import", params, raw=body)


def _while_stream_open(call: Call) -> Call:
    """Make the call while an event stream holds the only slot for waits and streams."""

    def run(s: Served, ids: dict[str, str]) -> Reply:
        conn = s.connect()
        conn.request("GET", "/api/v1/events")
        conn.getresponse()
        try:
            return call(s, ids)
        finally:
            conn.close()
            until(lambda: s.get("/api/v1/health").json()["live_connections"] == 0)

    return run


def _on_a_slow_store(method: str, path: str = "/api/v1/messages") -> Call:
    """Search a server of its own whose searches are stopped after 1 ms."""

    def run(_: Served, ids: dict[str, str]) -> Reply:
        slow = Served(query_timeout=0.001)
        try:
            for n in range(100):
                store_message(slow.store, f"Subject: filler {n}\r\n\r\nlorem\r\n".encode())
            index_all(slow.store)
            query = " ".join(["subject:filler", *(f"-z{chr(97 + n)}" for n in range(19))])
            return slow.request(method, path, {"query": query})
        finally:
            slow.stop()

    return run


M = "/api/v1/messages/{id}"
T = "/api/v1/tags/{name}"
SEND = {"from": "a@example.com", "to": ["b@example.com"], "subject": "sent", "tags": ["seed"]}
# (documented path, method, status, how to get that response)
CALLS: list[tuple[str, str, str, Call]] = [
    ("/api/v1/messages", "get", "200", _get("/api/v1/messages", query="order")),
    ("/api/v1/messages", "get", "400", _get("/api/v1/messages", query="before:x")),
    ("/api/v1/messages", "get", "503", _on_a_slow_store("GET")),
    ("/api/v1/messages", "delete", "200", _send("DELETE", "/api/v1/messages", query="nomatch")),
    ("/api/v1/messages", "delete", "503", _on_a_slow_store("DELETE")),
    ("/api/v1/messages", "delete", "400", _send("DELETE", "/api/v1/messages")),
    (M, "get", "200", _get(M)),
    (M, "get", "404", _get("/api/v1/messages/999999")),
    (M, "get", "400", _get(M, qeury="x")),
    (M, "patch", "200", _send("PATCH", M, {"read": True})),
    (M, "patch", "400", _send("PATCH", M, {"read": 1})),
    (M, "patch", "404", _send("PATCH", "/api/v1/messages/999999", {"read": True})),
    (M, "patch", "413", _send("PATCH", M, {"read": True, "pad": "x" * 5000})),
    (M, "delete", "200", _send("DELETE", "/api/v1/messages/{spare}")),
    (M, "delete", "404", _send("DELETE", "/api/v1/messages/999999")),
    (M, "delete", "400", _send("DELETE", M, qeury="x")),
    (M + "/raw", "get", "200", _get(M + "/raw")),
    (M + "/raw", "get", "404", _get("/api/v1/messages/999999/raw")),
    (M + "/raw", "get", "400", _get(M + "/raw", qeury="x")),
    (M + "/attachments/{n}", "get", "200", _get(M + "/attachments/0")),
    (M + "/attachments/{n}", "get", "404", _get(M + "/attachments/9")),
    (M + "/checks", "get", "200", _get(M + "/checks")),
    (M + "/checks", "get", "404", _get("/api/v1/messages/999999/checks")),
    (M + "/checks", "get", "400", _get(M + "/checks", qeury="x")),
    (M + "/attachments/{n}", "get", "400", _get(M + "/attachments/0", qeury="x")),
    ("/api/v1/wait", "get", "200", _get("/api/v1/wait", query="order", timeout=5)),
    ("/api/v1/wait", "get", "400", _get("/api/v1/wait", timeout=301)),
    ("/api/v1/wait", "get", "408", _get("/api/v1/wait", query="nomatch", timeout=0)),
    ("/api/v1/wait", "get", "503", _while_stream_open(_get("/api/v1/wait"))),
    ("/api/v1/events", "get", "200", _get("/api/v1/events")),
    ("/api/v1/events", "get", "400", _get("/api/v1/events", last_event_id="x")),
    ("/api/v1/events", "get", "503", _while_stream_open(_get("/api/v1/events"))),
    ("/api/v1/sessions", "get", "200", _get("/api/v1/sessions")),
    ("/api/v1/sessions", "get", "400", _get("/api/v1/sessions", limit="many")),
    ("/api/v1/sessions/{id}", "get", "200", _get("/api/v1/sessions/{session}")),
    ("/api/v1/sessions/{id}", "get", "404", _get("/api/v1/sessions/999999")),
    ("/api/v1/sessions/{id}", "get", "400", _get("/api/v1/sessions/{session}", qeury="x")),
    ("/api/v1/inboxes", "get", "200", _get("/api/v1/inboxes")),
    ("/api/v1/inboxes", "get", "400", _get("/api/v1/inboxes", qeury="x")),
    ("/api/v1/health", "get", "200", _get("/api/v1/health")),
    ("/api/v1/health", "get", "400", _get("/api/v1/health", qeury="x")),
    ("/api/v1/openapi.json", "get", "200", _get("/api/v1/openapi.json")),
    ("/api/v1/openapi.json", "get", "400", _get("/api/v1/openapi.json", qeury="x")),
    ("/api/v1/faults", "get", "200", _get("/api/v1/faults")),
    ("/api/v1/faults", "get", "400", _get("/api/v1/faults", qeury="x")),
    ("/api/v1/faults", "put", "200", _send("PUT", "/api/v1/faults", {"rules": []})),
    ("/api/v1/faults", "put", "400", _send("PUT", "/api/v1/faults", {"rules": [{"rule": "x"}]})),
    ("/api/v1/export", "get", "200", _get("/api/v1/export", query="order")),
    ("/api/v1/export", "get", "400", _get("/api/v1/export", format="tar")),
    ("/api/v1/export", "get", "503", _on_a_slow_store("GET", "/api/v1/export")),
    ("/api/v1/import", "post", "200", _upload(b"Subject: imported\r\n\r\nx\r\n", filename="a.eml",
                                              tag="imported")),
    ("/api/v1/import", "post", "400", _upload(b"")),
    ("/api/v1/import", "post", "413", _upload(b"x" * 9000)),
    ("/api/v1/send", "post", "200", _send("POST", "/api/v1/send", SEND)),
    ("/api/v1/send", "post", "400", _send("POST", "/api/v1/send", {**SEND, "to": []})),
    ("/api/v1/send", "post", "413", _send("POST", "/api/v1/send", {**SEND, "text": "x" * 9000})),
    ("/api/v1/tags", "get", "200", _get("/api/v1/tags")),
    ("/api/v1/tags", "get", "400", _get("/api/v1/tags", qeury="x")),
    (T, "put", "200", _send("PUT", "/api/v1/tags/seed", {"name": "seeded"})),
    (T, "put", "400", _send("PUT", "/api/v1/tags/seeded", {"name": "a/b"})),
    (T, "put", "404", _send("PUT", "/api/v1/tags/nope", {"name": "x"})),
    (T, "delete", "200", _send("DELETE", "/api/v1/tags/order")),
    (T, "delete", "404", _send("DELETE", "/api/v1/tags/nope")),
    (T, "delete", "400", _send("DELETE", "/api/v1/tags/seeded", qeury="x")),
    (M + "/release", "post", "200", _send("POST", M + "/release", {"to": ["ann@example.com"]})),
    (M + "/release", "post", "400", _send("POST", M + "/release", {"to": ["x@elsewhere.test"]})),
    (M + "/release", "post", "404", _send("POST", "/api/v1/messages/999999/release",
                                          {"to": ["ann@example.com"]})),
    ("/api/v1/webhooks/deliveries", "get", "200", _get("/api/v1/webhooks/deliveries")),
    ("/api/v1/webhooks/deliveries", "get", "400", _get("/api/v1/webhooks/deliveries", qeury="x")),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    target = Sink().start()  # the relay server that releases go to
    relay = tmp_path_factory.mktemp("relay") / "relay.toml"
    relay.write_text(f'host = "127.0.0.1"\nport = {target.port}\ntls = "none"\n'
                     'allowed_recipients = "@example\\\\.com$"\n')  # fmt: skip
    served = Served(http_max_waits=1, http_max_body=4096, events_seconds=0.2,
                    http_max_upload=8192, max_message_size=8192, relay_config=relay)  # fmt: skip
    order = make_message("order shipped", To="ann@example.com", Cc="cc@example.com",
                         X_Tags="order, seed")  # fmt: skip
    order.add_attachment(b"PDF", maintype="application", subtype="pdf", filename="a.pdf")
    served.send(order, to=["ann@example.com", "hidden@example.com"])
    served.send(make_message("spare"))
    until(lambda: served.get("/api/v1/health").json()["unindexed"] == 0)
    spare, message = served.get("/api/v1/messages").json()["messages"]
    ids = {"id": message["id"], "spare": spare["id"], "session": message["session_id"]}
    yield served, ids
    served.stop()
    target.stop()


@pytest.fixture(scope="module")
def document(server: tuple[Served, dict[str, str]]) -> dict[str, Any]:
    served, _ = server
    reply = served.get("/api/v1/openapi.json")
    assert reply.status == 200
    found: dict[str, Any] = reply.json()
    Draft202012Validator.check_schema({"$defs": found["components"]["schemas"]})
    assert found["openapi"].startswith("3.1")
    return found


def test_every_documented_response_is_exercised(document: dict[str, Any]) -> None:
    documented = {
        (path, method, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }
    assert documented == {(path, method, status) for path, method, status, _ in CALLS}


@pytest.mark.parametrize(("path", "method", "status", "call"), CALLS,
                         ids=[f"{m} {p} {s}" for p, m, s, _ in CALLS])  # fmt: skip
def test_real_response_matches_the_document(server, document, path, method, status, call) -> None:
    served, ids = server
    reply = call(served, ids)
    assert str(reply.status) == status, reply.body[:200]
    [(media, spec)] = document["paths"][path][method]["responses"][status]["content"].items()
    content_type = reply.headers["Content-Type"].split(";")[0]
    assert media == "*/*" or content_type == media
    if media == "application/json":
        root = {**document, **spec["schema"]}  # so that "#/components/..." refs resolve
        Draft202012Validator(root).validate(reply.json())


def _route_key(path: str) -> str:
    return re.sub(r"[<{][^>}]*[>}]", "{}", path)


def test_documented_query_parameters_are_those_each_route_takes(
    server: tuple[Served, dict[str, str]], document: dict[str, Any]
) -> None:
    served, _ = server
    app = create_app(served.store, served.config)
    taken = {
        (_route_key(rule.rule), method.lower()): set(
            getattr(app.view_functions[rule.endpoint], ACCEPTED, ())
        )
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (_route_key(path), method): {p["name"] for p in op.get("parameters", [])
                                     if p["in"] == "query"}
        for path, operations in document["paths"].items()
        for method, op in operations.items()
    }  # fmt: skip
    assert taken == documented

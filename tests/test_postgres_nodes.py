"""Two `mailtrap-lite` processes on one PostgreSQL database: one set of mail, seen live by both.

Each test starts two real server processes (node A and node B) with the same `--db` URL, as a
team behind a load balancer would, and talks to them over SMTP and HTTP (and in Chromium).
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import smtplib
import threading
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from tests import statuscodes
from tests.apiserver import until
from tests.pgcluster import Cluster
from tests.process import ServerProcess
from tests.test_durability import Sender

Launch = Callable[..., ServerProcess]
QUEUED = re.compile(rb"queued as (\d+)")


@pytest.fixture
def url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database of the worker's cluster, shared by the nodes of one test."""
    database = pg_cluster.new_database()
    yield database
    pg_cluster.drop_database(database)


def _node(launch: Launch, url: str, *extra: str) -> ServerProcess:
    return launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", url, *extra)


def _send(node: ServerProcess, subject: str, body: str = "hello") -> int:
    """Send one message to a node; return the id its 250 reply names."""
    data = f"Subject: {subject}\r\nFrom: a@example.com\r\n\r\n{body}\r\n".encode()
    with smtplib.SMTP(*node.smtp, timeout=30) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("team@example.com")
        code, reply = client.data(data)
    assert code == statuscodes.OK, reply
    found = QUEUED.search(reply)
    assert found is not None, reply
    return int(found.group(1))


def _request(node: ServerProcess, method: str, path: str, body: object = None) -> tuple[int, dict]:
    parts = urlsplit(node.info["http"])
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else {}
    finally:
        conn.close()


def _subjects(node: ServerProcess, path: str = "/api/v1/messages") -> list[str]:
    status, body = _request(node, "GET", path)
    assert status == 200, body
    return [m["subject"] for m in body["messages"]]


def test_mail_sent_to_node_a_is_waited_for_on_node_b_within_a_second(
    launch: Launch, url: str
) -> None:
    a, b = _node(launch, url), _node(launch, url)
    waited: list[tuple[int, dict]] = []
    waiter = threading.Thread(
        target=lambda: waited.append(_request(b, "GET", "/api/v1/wait?timeout=30&after=0"))
    )
    waiter.start()
    # The wait is open on node B before the mail exists: only news from node A can end it.
    until(lambda: _request(b, "GET", "/api/v1/health")[1]["live_connections"] == 1)
    sent = _send(a, "Deploy finished")
    # A fresh wait on B, given one second, finds the mail too.
    status, body = _request(b, "GET", f"/api/v1/wait?timeout=1&count=1&after={sent - 1}")
    assert status == 200, body
    assert [m["subject"] for m in body["messages"]] == ["Deploy finished"]
    waiter.join(30)
    assert waited and waited[0][0] == 200
    assert [m["id"] for m in waited[0][1]["messages"]] == [str(sent)]


def test_mail_sent_to_node_a_is_listed_and_searchable_on_node_b(
    launch: Launch, url: str
) -> None:
    a, b = _node(launch, url), _node(launch, url)
    _send(a, "Invoice 2291", body="Your invoice for the quarterly plan")
    _send(a, "Welcome aboard")
    assert _subjects(b) == ["Welcome aboard", "Invoice 2291"]
    query = quote("quarterly plan")
    status, body = _request(b, "GET", f"/api/v1/wait?query={query}&timeout=30")
    assert status == 200, body
    assert [m["subject"] for m in body["messages"]] == ["Invoice 2291"]
    assert _subjects(b, f"/api/v1/messages?query={query}") == ["Invoice 2291"]


def test_a_delete_on_node_b_reaches_node_a_event_stream(launch: Launch, url: str) -> None:
    a, b = _node(launch, url), _node(launch, url)
    kept, gone = _send(a, "Stays"), _send(a, "Goes")
    parts = urlsplit(a.info["http"])
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.request("GET", "/api/v1/events")
    stream = conn.getresponse()
    assert stream.readline().startswith(b"retry:")
    assert _request(b, "DELETE", f"/api/v1/messages/{gone}")[0] in (200, 204)
    while stream.readline() != b"event: deleted\n":  # other events may come first
        pass
    data = stream.readline()
    conn.close()
    assert json.loads(data.removeprefix(b"data:")) == {"ids": [str(gone)]}
    assert [m["id"] for m in _request(a, "GET", "/api/v1/messages")[1]["messages"]] == [str(kept)]


def test_max_messages_5_keeps_5_across_both_nodes(launch: Launch, url: str) -> None:
    a = _node(launch, url, "--max-messages", "5")
    b = _node(launch, url, "--max-messages", "5")
    for n in range(12):
        _send(a if n % 2 else b, f"m{n}")
    assert _subjects(a) == [f"m{n}" for n in range(11, 6, -1)]
    assert _subjects(b) == _subjects(a)
    status, health = _request(b, "GET", "/api/v1/health")
    assert status == 200 and health["messages"] == 5


def test_kill_9_of_node_a_during_a_burst_loses_nothing_a_acknowledged(
    launch: Launch, url: str
) -> None:
    a = _node(launch, url, "--max-messages", "0", "--node-timeout", "1")
    b = _node(launch, url, "--max-messages", "0", "--node-timeout", "1")
    senders = [Sender(*node.smtp, name=f"{label}{n}") for label, node in (("a", a), ("b", b))
               for n in range(2)]  # fmt: skip
    for sender in senders:
        sender.start()
    until(lambda: sum(len(s.acked) for s in senders[:2]) >= 200, timeout=60)
    a.proc.send_signal(signal.SIGKILL)
    a.stop()
    for sender in senders[:2]:
        sender.join(15)
    acked_by_a = {mid: data for s in senders[:2] for mid, data in s.acked.items()}
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute("SELECT id, data FROM message_raw").fetchall())
    assert [mid for mid, data in acked_by_a.items() if bytes(stored.get(mid, b"")) != data] == []
    # Node B goes on taking mail, and ends the sessions A had open once A's node expires.
    before = sum(len(s.acked) for s in senders[2:])
    until(lambda: sum(len(s.acked) for s in senders[2:]) > before + 20, timeout=60)
    until(lambda: _end_reasons(url, sorted(acked_by_a)) == {"node-lost"}, timeout=30)
    b.stop()


def _end_reasons(url: str, message_ids: list[int]) -> set[str | None]:
    """Return how the sessions that delivered these messages ended (None: still open)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT s.end_reason FROM sessions s JOIN messages m ON m.session_id = s.id"
            " WHERE m.id = ANY(%s)",
            (message_ids,),
        ).fetchall()
    return {row[0] for row in rows}


def test_a_delete_on_node_b_disappears_from_node_a_live_ui(launch: Launch, url: str, page) -> None:
    from playwright.sync_api import expect

    a, b = _node(launch, url), _node(launch, url)
    kept, gone = _send(a, "Stays"), _send(b, "Goes")
    page.goto(a.info["http"] + "/")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    expect(page.locator("tr.msg")).to_have_count(2)
    page.evaluate("window.sameDocument = true")
    assert _request(b, "DELETE", f"/api/v1/messages/{gone}")[0] in (200, 204)
    expect(page.locator("tr.msg")).to_have_count(1)
    expect(page.locator(f'tr.msg[data-id="{kept}"]')).to_be_visible()
    _send(b, "Arrives at B")
    expect(page.locator("tr.msg a.subject")).to_have_text(["Arrives at B", "Stays"])
    assert page.evaluate("window.sameDocument") is True  # live, not reloaded


def test_fault_rules_set_through_the_api_apply_to_that_node_alone(launch: Launch, url: str) -> None:
    a, b = _node(launch, url), _node(launch, url)
    rules = {"rules": [{"rule": "rcpt:to=*@bounce.test:550 5.1.1 No such user"}]}
    assert _request(a, "PUT", "/api/v1/faults", rules)[0] == 200
    for node, expected in ((a, statuscodes.MAILBOX_UNAVAILABLE), (b, statuscodes.OK)):
        with smtplib.SMTP(*node.smtp, timeout=30) as client:
            client.ehlo()
            client.mail("a@example.com")
            assert client.rcpt("x@bounce.test")[0] == expected
    assert _request(b, "GET", "/api/v1/faults")[1] == {"rules": []}


def test_the_fixture_external_mode_on_node_b_wakes_on_mail_sent_to_node_a(
    launch: Launch, url: str
) -> None:
    from mailtrap_lite.testing.remote import RemoteInbox

    a, b = _node(launch, url), _node(launch, url)
    inbox = RemoteInbox(b.info["http"], "pytest-gw0")
    after = inbox.cursor().message_id

    def send() -> None:
        with smtplib.SMTP(*a.smtp, timeout=30) as client:
            client.login(*inbox.credentials)  # type: ignore[misc]
            client.sendmail("app@example.com", ["user@example.com"], b"Subject: reset\r\n\r\nx\r\n")

    threading.Timer(0.3, send).start()
    inbox.wait(None, after, 30)
    assert [r.subject for r in inbox.records(after)] == ["reset"]


def test_tag_rules_and_webhooks_of_both_nodes_handle_each_message_once(
    launch: Launch, url: str
) -> None:
    from tests.receivers import receiver

    with receiver(200) as hook:
        rules = ("--tag", "urgent=subject:urgent", "--webhook", hook.url)
        a, b = _node(launch, url, *rules), _node(launch, url, *rules)
        to_a = [_send(a, "urgent: disk full"), _send(a, "fyi")]
        to_b = [_send(b, "urgent: cpu")]
        until(lambda: len(hook.requests) >= 3, timeout=60)
        # Both nodes have indexed everything, so their rules have run on what they follow.
        for node in (a, b):
            until(lambda n=node: _request(n, "GET", "/api/v1/health")[1]["unindexed"] == 0)
        posted_by = {
            name: sorted(int(d["message_id"]) for d in
                         _request(node, "GET", "/api/v1/webhooks/deliveries")[1]["deliveries"])
            for name, node in (("a", a), ("b", b))
        }  # fmt: skip
    assert posted_by == {"a": sorted(to_a), "b": to_b}  # each by the node that took it
    assert sorted(int(json.loads(r.body)["id"]) for r in hook.requests) == sorted(to_a + to_b)
    summaries = _request(b, "GET", "/api/v1/messages")[1]["messages"]
    assert {m["subject"]: m["tags"] for m in summaries} == {
        "urgent: disk full": ["urgent"], "urgent: cpu": ["urgent"], "fyi": []
    }

"""GET /metrics: Prometheus text, read back with prometheus_client's own parser."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import Served, make_message, until
from tests.test_relay import relay_file


def samples(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = served.get("/metrics")
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.body.decode())
        for s in family.samples
    }


@pytest.fixture
def traffic() -> Iterator[Served]:
    """Two messages stored, one recipient refused by a fault, one message deleted."""
    served = Served(faults=("rcpt:to=nobody@example.com:550 5.1.1 No such user",))
    with smtplib.SMTP(served.sink.host, served.sink.port) as client:
        for subject in ("one", "two"):
            client.sendmail("a@example.com", ["b@example.com"], make_message(subject).as_bytes())
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("a@example.com", ["nobody@example.com"], b"Subject: x\r\n\r\nx\r\n")
    until(lambda: served.get("/api/v1/sessions").json()["sessions"][0]["ended_at"])
    first = served.get("/api/v1/messages").json()["messages"][-1]["id"]
    served.request("DELETE", f"/api/v1/messages/{first}")
    yield served
    served.stop()


def test_stored_and_deleted_messages_are_counted(traffic: Served) -> None:
    found = samples(traffic)
    assert found[("mailtrap_lite_messages_stored_total", ())] == 2
    assert found[("mailtrap_lite_messages_deleted_total", ())] == 1
    assert found[("mailtrap_lite_messages", ())] == 1


def test_replies_are_counted_by_class_and_command(traffic: Served) -> None:
    found = samples(traffic)
    replies = "mailtrap_lite_smtp_replies_total"
    assert found[(replies, (("class", "5xx"), ("command", "RCPT")))] == 1
    assert found[(replies, (("class", "2xx"), ("command", "RCPT")))] == 2
    assert found[(replies, (("class", "2xx"), ("command", "CONNECT")))] == 1
    assert found[(replies, (("class", "3xx"), ("command", "DATA")))] == 2


def test_sessions_are_counted_by_how_they_ended(traffic: Served) -> None:
    assert samples(traffic)[("mailtrap_lite_smtp_sessions_total", (("end_reason", "quit"),))] == 1


def test_ingest_latency_is_a_histogram_of_every_stored_message(traffic: Served) -> None:
    found = samples(traffic)
    assert found[("mailtrap_lite_ingest_seconds_count", ())] == 2
    assert found[("mailtrap_lite_ingest_seconds_bucket", (("le", "+Inf"),))] == 2


def test_gauges_report_index_lag_size_and_open_streams(traffic: Served) -> None:
    until(lambda: traffic.get("/api/v1/health").json()["unindexed"] == 0)
    found = samples(traffic)
    assert found[("mailtrap_lite_index_lag_messages", ())] == 0
    assert found[("mailtrap_lite_database_bytes", ())] > 0
    assert found[("mailtrap_lite_open_streams", ())] == 0
    assert found[("mailtrap_lite_messages_pruned_total", ())] == 0


def test_webhook_deliveries_and_releases_are_counted(tmp_path: Path) -> None:
    from tests.receivers import receiver

    with Sink() as target, receiver(200) as hook:
        served = Served(webhooks=(hook.url,), relay_config=relay_file(tmp_path, target))
        try:
            served.send(make_message("hooked"))
            message_id = served.get("/api/v1/messages").json()["messages"][0]["id"]
            served.request("POST", f"/api/v1/messages/{message_id}/release",
                           body={"to": ["ann@example.com"]})  # fmt: skip
            until(lambda: served.get("/api/v1/webhooks/deliveries").json()["delivered"])
            found = samples(served)
        finally:
            served.stop()
    assert found[("mailtrap_lite_webhook_deliveries_total", (("result", "delivered"),))] == 1
    assert found[("mailtrap_lite_releases_total", (("result", "ok"),))] == 1


def test_two_servers_in_one_process_count_apart() -> None:
    first, second = Served(), Served()
    try:
        first.send(make_message("only here"))
        assert samples(first)[("mailtrap_lite_messages_stored_total", ())] == 1
        assert samples(second)[("mailtrap_lite_messages_stored_total", ())] == 0
    finally:
        first.stop()
        second.stop()


def test_metrics_can_be_turned_off() -> None:
    served = Served(metrics=False)
    try:
        assert served.get("/metrics").status == 404
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("host", "on"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                     ("0.0.0.0", False), ("192.0.2.7", False)],
)  # fmt: skip
def test_metrics_are_on_by_default_only_for_loopback_listeners(host: str, on: bool) -> None:
    assert Config(http=Address(host, 0)).metrics_on is on
    assert Config(http=Address(host, 0), metrics=True).metrics_on is True


def test_metrics_need_the_ui_credentials_like_every_route() -> None:
    served = Served(ui_auth=("u", "p"))
    try:
        assert served.get("/metrics").status == 401
    finally:
        served.stop()

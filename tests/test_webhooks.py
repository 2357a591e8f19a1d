"""Webhooks: each new message's summary POSTed to local receivers, retried, bounded, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib

import pytest

from mailtrap_lite.config import ConfigError
from mailtrap_lite.services.clock import ManualClock
from mailtrap_lite.services.webhooks import SIGNATURE_HEADER, check_webhook_url
from tests.apiserver import Served, make_message, until
from tests.receivers import receiver, silent_receiver

SECRET = "s3cret"


def deliveries(served: Served) -> list[dict]:
    found: list[dict] = served.get("/api/v1/webhooks/deliveries").json()["deliveries"]
    return found


def test_a_failing_receiver_gets_the_summary_again_until_it_takes_it() -> None:
    clock = ManualClock()
    with receiver(500, 503, 200) as hook:
        served = Served(clock=clock, webhooks=(hook.url,), webhook_secret=SECRET)
        try:
            served.send(make_message("hello hook", X_Tags="t1"))
            for attempts, wait in ((1, 1.0), (2, 2.0)):  # back-off: 1 s, then 2 s
                until(lambda n=attempts: [(d["attempts"], d["status"]) for d in deliveries(served)]
                      == [(n, "pending")])  # fmt: skip
                assert len(hook.requests) == attempts
                clock.advance(wait)
            until(lambda: deliveries(served)[0]["status"] == "delivered")
        finally:
            served.stop()
    assert len(hook.requests) == 3
    bodies = {r.body for r in hook.requests}
    assert len(bodies) == 1
    summary = json.loads(bodies.pop())
    assert summary["subject"] == "hello hook" and summary["tags"] == ["t1"]


def test_each_request_carries_a_signature_of_its_body() -> None:
    with receiver(200) as hook:
        served = Served(webhooks=(hook.url,), webhook_secret=SECRET)
        try:
            served.send(make_message("signed"))
            until(lambda: hook.requests)
        finally:
            served.stop()
    [request] = hook.requests
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert request.path == "/hook?x=1" and request.headers["Content-Type"] == "application/json"


def test_without_a_secret_there_is_no_signature() -> None:
    with receiver(200) as hook:
        served = Served(webhooks=(hook.url,))
        try:
            served.send(make_message("plain"))
            until(lambda: hook.requests)
        finally:
            served.stop()
    assert SIGNATURE_HEADER not in hook.requests[0].headers


def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    with receiver(302) as hook:
        served = Served(webhooks=(hook.url,), webhook_attempts=1)
        try:
            served.send(make_message("moved"))
            until(lambda: deliveries(served) and deliveries(served)[0]["status"] == "failed")
            [delivery] = deliveries(served)
            assert "redirects are not followed" in delivery["last_error"]
            assert len(hook.requests) == 1
        finally:
            served.stop()


def test_a_receiver_that_never_answers_is_bounded_and_smtp_goes_on() -> None:
    clock = ManualClock()
    with silent_receiver() as url:
        served = Served(clock=clock, webhooks=(url,), webhook_timeout=0.2, webhook_attempts=2,
                        webhook_queue=2)  # fmt: skip
        try:
            with smtplib.SMTP(served.sink.host, served.sink.port) as client:
                for number in range(6):  # every message gets its 250 while the hook hangs
                    raw = make_message(f"m{number}").as_bytes()
                    assert client.sendmail("a@example.com", ["b@example.com"], raw) == {}
            until(lambda: served.get("/api/v1/webhooks/deliveries").json()["dropped"] >= 3)

            def settled() -> dict | None:
                clock.advance(5)
                report = served.get("/api/v1/webhooks/deliveries").json()
                return report if report["failed"] + report["dropped"] == 6 else None

            report = until(settled, timeout=20)
        finally:
            served.stop()
    assert report["dropped"] >= 3
    assert all(d["attempts"] <= 2 for d in report["deliveries"])
    assert all("timed out" in (d["last_error"] or "") for d in report["deliveries"]
               if d["status"] == "failed")  # fmt: skip
    assert served.store is not None


@pytest.mark.parametrize("url", ["ftp://x/hook", "http:///nohost", "hook"])
def test_a_webhook_url_must_be_http_with_a_host(url: str) -> None:
    with pytest.raises(ConfigError):
        check_webhook_url(url)

"""Password guessing is slowed: SMTP AUTH per connection, HTTP basic auth per client address."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.apiserver import stored_app
from tests.sessions import ended_session
from tests.wire import greet

MakeSink = Callable[..., Sink]
HELD_BACK = re.compile(r"<AUTH failure (\d): next command read after (\d+) ms>")


def plain(user: str, password: str) -> str:
    return "AUTH PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_wrong_passwords_slow_the_connection_ever_more_then_421(make_sink: MakeSink) -> None:
    sink = make_sink(credentials={"app": "right"}, auth_failure_delay=0.01)
    with greet(sink.host, sink.port) as wire:
        codes = [wire.cmd(plain("app", f"guess{n}")).code for n in range(5)]
        assert wire.closed_by_server()
    assert codes == [statuscodes.AUTH_INVALID] * 4 + [statuscodes.SERVICE_UNAVAILABLE]
    session = ended_session(sink)
    lines = [entry.line for entry in session.transcript or []]
    delays = [int(m.group(2)) for line in lines if (m := HELD_BACK.fullmatch(line))]
    assert delays == [10, 20, 40, 80]
    assert lines[-1].startswith("421 4.7.0") and "failed authentication" in lines[-1]
    assert session.end_reason == "limit"


def test_the_right_password_still_works_after_a_few_wrong_ones(make_sink: MakeSink) -> None:
    sink = make_sink(credentials={"app": "right"}, auth_failure_delay=0.01)
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd(plain("app", "wrong")).code == statuscodes.AUTH_INVALID
        assert wire.cmd(plain("app", "right")).code == statuscodes.AUTH_OK


def test_injected_auth_faults_are_not_counted_as_guesses(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("auth:535 5.7.8 Locked",), max_auth_failures=2)
    with greet(sink.host, sink.port) as wire:
        codes = [wire.cmd(plain("app", "pw")).code for _ in range(3)]
    assert codes == [statuscodes.AUTH_INVALID] * 3


# -- HTTP basic auth --------------------------------------------------------------------------


@pytest.fixture
def store() -> Iterator[Store]:
    opened = SQLiteStore()
    yield opened
    opened.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def from_address(client: Any, address: str, headers: dict[str, str]) -> Any:
    return client.get("/api/v1/messages", headers=headers,
                      environ_base={"REMOTE_ADDR": address})  # fmt: skip


def test_an_address_with_too_many_wrong_passwords_gets_429(store: Store, caplog) -> None:
    client = stored_app(store, ui_auth=("ann", "pw"), http_auth_failures=3).test_client()
    with caplog.at_level(logging.INFO, logger="mailtrap_lite.web.security"):
        statuses = [from_address(client, "10.0.0.7", basic("ann", f"guess{n}")).status_code
                    for n in range(4)]  # fmt: skip
    assert statuses == [401, 401, 401, 429]
    refused = from_address(client, "10.0.0.7", basic("ann", "pw"))  # even the right one
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["error"].startswith("too many failed logins")
    assert "failed 3 times from 10.0.0.7" in caplog.text
    assert from_address(client, "10.0.0.8", basic("ann", "pw")).status_code == 200


def test_requests_without_credentials_are_not_counted(store: Store) -> None:
    client = stored_app(store, ui_auth=("ann", "pw"), http_auth_failures=2).test_client()
    for _ in range(5):
        assert from_address(client, "10.0.0.9", {}).status_code == 401
    assert from_address(client, "10.0.0.9", basic("ann", "pw")).status_code == 200


def test_a_login_forgets_earlier_mistakes(store: Store) -> None:
    client = stored_app(store, ui_auth=("ann", "pw"), http_auth_failures=2).test_client()
    for _ in range(3):
        assert from_address(client, "10.0.0.5", basic("ann", "typo")).status_code == 401
        assert from_address(client, "10.0.0.5", basic("ann", "pw")).status_code == 200

"""DNS rebinding: requests for a Host name the server does not answer get 403 (--allowed-hosts)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import Served, make_message, until

ROUTES = [
    ("GET", "/api/v1/messages"),
    ("GET", "/api/v1/messages/1"),
    ("GET", "/api/v1/messages/1/raw"),
    ("DELETE", "/api/v1/messages?all=true"),
    ("PUT", "/api/v1/faults"),
    ("GET", "/api/v1/events"),
    ("GET", "/"),
    ("GET", "/messages/1"),
    ("GET", "/assets/ui.js"),
]
MakeServed = Any


@pytest.fixture
def stored(served: Served) -> Served:
    served.send(make_message("reset", "your token is 771204"))
    until(lambda: served.get("/api/v1/messages").json()["messages"])
    return served


def call(served: Served, method: str, path: str, host: str) -> Any:
    body = {"rules": []} if method == "PUT" else None
    return served.request(method, path, body=body, headers={"Host": host})


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_foreign_host_name_gets_403_naming_the_flag(stored: Served, method: str, path: str):
    reply = call(stored, method, path, f"evil.example:{stored.port}")
    assert reply.status == 403
    assert b"--allowed-hosts evil.example" in reply.body
    assert stored.get("/api/v1/messages").json()["total"] == 1  # nothing was deleted


def test_a_refused_api_request_is_answered_in_json(stored: Served) -> None:
    reply = call(stored, "GET", "/api/v1/messages", "evil.example")
    assert reply.headers["Content-Type"] == "application/json"
    assert "DNS rebinding" in reply.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/health", "/livez", "/readyz"])
def test_health_routes_answer_any_host(stored: Served, path: str) -> None:
    assert call(stored, "GET", path, "probe.internal").status == 200


@pytest.fixture(scope="module")
def compat() -> Iterator[Sink]:
    local = Address("127.0.0.1", 0)
    with Sink(Config(smtp=local), http=local, mailpit_http=local, mailhog_http=local) as sink:
        yield sink


def ask(base: str, path: str, host: str) -> int:
    """Return the status of GET base+path sent with this Host header."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + path, headers={"Host": host})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


COMPAT_ROUTES = [
    ("mailpit", "/api/v1/messages"),
    ("mailpit", "/api/v1/search?query=reset"),
    ("mailhog", "/api/v2/messages"),
    ("mailhog", "/api/v1/messages"),
    ("main", "/compat/mailpit/api/v1/messages"),
    ("main", "/compat/mailhog/api/v2/messages"),
]


def compat_base(sink: Sink, where: str) -> str:
    found = {"mailpit": sink.mailpit_url, "mailhog": sink.mailhog_url, "main": sink.web_url}
    return str(found[where])


@pytest.mark.parametrize(("where", "path"), COMPAT_ROUTES)
def test_the_compatible_listeners_refuse_a_foreign_host_name(
    compat: Sink, where: str, path: str
) -> None:
    base = compat_base(compat, where)
    assert ask(base, path, "evil.example") == 403
    assert ask(base, path, "localhost") == 200


@pytest.mark.parametrize("where", ["mailpit", "mailhog"])
def test_the_compatible_listeners_answer_health_checks_for_any_host(
    compat: Sink, where: str
) -> None:
    assert ask(compat_base(compat, where), "/livez", "probe.internal") == 200


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST:8025", "localhost.", "127.0.0.1", "127.0.0.1:8025", "[::1]:8025",
     "10.1.2.3:80", "[2001:db8::5]"],
)  # fmt: skip
def test_localhost_and_ip_literals_pass(stored: Served, host: str) -> None:
    assert call(stored, "GET", "/api/v1/messages", host).status == 200


def test_names_given_with_allowed_hosts_pass(make_served: MakeServed) -> None:
    served = make_served(allowed_hosts=("mail.test", "Sink.Internal"))
    assert call(served, "GET", "/", "MAIL.test:8025").status == 200
    assert call(served, "GET", "/", "sink.internal").status == 200
    assert call(served, "GET", "/", "other.test").status == 403


def test_a_star_allows_any_host(make_served: MakeServed) -> None:
    served = make_served(allowed_hosts=("*",))
    assert call(served, "GET", "/api/v1/messages", "evil.example").status == 200


def test_allowed_hosts_flag_takes_a_comma_separated_list() -> None:
    config = config_from_args(build_parser().parse_args(["--allowed-hosts", "a.test, b.test"]))
    assert config.allowed_hosts == ("a.test", "b.test")
    assert config_from_args(build_parser().parse_args([])).allowed_hosts == ()


def test_a_rebound_name_in_a_real_browser_reads_nothing(stored: Served, chromium: Any) -> None:
    from tests.uikit import CHROMIUM, CHROMIUM_ARGS

    browser = chromium.browser_type.launch(  # evil.example resolves to 127.0.0.1 here
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"],
    )  # fmt: skip
    try:
        page = browser.new_page()
        response = page.goto(f"http://evil.example:{stored.port}/")
        assert response is not None and response.status == 403
        status = page.evaluate("fetch('/api/v1/messages', {method: 'DELETE'}).then(r => r.status)")
        assert status == 403
    finally:
        browser.close()
    assert stored.get("/api/v1/messages").json()["total"] == 1

"""Basic auth (--ui-auth), CORS (--cors) and the request body cap of the web app."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.config import ConfigError
from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import Served, stored_app

PATHS = ["/api/v1/health", "/api/v1/messages", "/api/v1/inboxes", "/"]


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def store() -> Iterator[Store]:
    opened = SQLiteStore()
    yield opened
    opened.close()


def client(store: Store, **settings: Any) -> FlaskClient:
    return stored_app(store, **settings).test_client()


@pytest.mark.parametrize("path", PATHS)
def test_without_ui_auth_everything_is_open(store: Store, path: str) -> None:
    assert client(store).get(path).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_ui_auth_challenges_requests_without_credentials(store: Store, path: str) -> None:
    reply = client(store, ui_auth=("ann", "s3cret")).get(path)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith('Basic realm="mailtrap-lite"')
    assert reply.is_json == path.startswith("/api/")


@pytest.mark.parametrize(
    "credentials", [("ann", "wrong"), ("bob", "s3cret"), ("", ""), ("ann", "s3cret:")]
)
def test_ui_auth_rejects_wrong_credentials(store: Store, credentials: tuple[str, str]) -> None:
    reply = client(store, ui_auth=("ann", "s3cret")).get(
        "/api/v1/messages", headers=basic(*credentials)
    )
    assert reply.status_code == 401


@pytest.mark.parametrize("path", PATHS)
def test_ui_auth_accepts_the_configured_credentials(store: Store, path: str) -> None:
    reply = client(store, ui_auth=("ann", "s3:cret")).get(path, headers=basic("ann", "s3:cret"))
    assert reply.status_code == 200


def test_ui_auth_works_through_the_real_server(make_served: Any) -> None:
    served: Served = make_served(ui_auth=("ann", "pw"))
    assert served.get("/api/v1/health").status == 401
    reply = served.request("GET", "/api/v1/health", headers=basic("ann", "pw"))
    assert reply.status == 200 and reply.json()["status"] == "ok"


def test_no_cors_headers_unless_asked_for(store: Store) -> None:
    reply = client(store).get("/api/v1/health", headers={"Origin": "http://app.test"})
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_cors_allows_the_configured_origin(store: Store) -> None:
    web = client(store, cors="http://app.test")
    allowed = web.get("/api/v1/health", headers={"Origin": "http://app.test"})
    other = web.get("/api/v1/health", headers={"Origin": "http://evil.test"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://app.test"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_star_allows_any_origin(store: Store) -> None:
    reply = client(store, cors="*").get("/api/v1/health", headers={"Origin": "http://x.test"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("cors", ["*", "http://app.test"])
@pytest.mark.parametrize("origin", [None, "http://app.test", "http://evil.test"])
def test_cors_answers_vary_by_origin(store: Store, cors: str, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    reply = client(store, cors=cors).get("/api/v1/messages", headers=headers)
    assert "Origin" in reply.headers.get_all("Vary")


def test_open_cors_without_ui_auth_is_warned_about_at_start(launch, tmp_path) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cors", "*",
                    "--db", str(tmp_path / "mail.db"))  # fmt: skip
    _, stderr = server.stop()
    assert "--cors * without --ui-auth lets every website you visit read and delete" in stderr


def test_open_cors_with_ui_auth_is_not_warned_about(launch, tmp_path) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--cors", "*",
                    "--ui-auth", "ann:pw", "--db", str(tmp_path / "mail.db"))  # fmt: skip
    _, stderr = server.stop()
    assert "--cors" not in stderr


def test_cors_preflight_passes_without_credentials(store: Store) -> None:
    web = client(store, cors="http://app.test", ui_auth=("ann", "pw"))
    reply = web.options(
        "/api/v1/messages/1",
        headers={"Origin": "http://app.test", "Access-Control-Request-Method": "PATCH"},
    )
    assert reply.status_code == 200
    assert "PATCH" in reply.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]


def test_request_bodies_over_the_cap_get_413(store: Store) -> None:
    web = client(store, http_max_body=1024)
    reply = web.patch("/api/v1/messages/1", data=b'{"read": true, "x": "' + b"a" * 2000 + b'"}',
                      content_type="application/json")  # fmt: skip
    assert reply.status_code == 413 and reply.is_json


@pytest.mark.parametrize(
    ("argv", "env", "auth", "cors"),
    [
        ([], {}, None, None),
        (["--ui-auth", "ann:pw:x", "--cors", "http://app.test"], {}, ("ann", "pw:x"), "http://app.test"),
        ([], {"MAILTRAP_LITE_UI_AUTH": "bob:pw", "MAILTRAP_LITE_CORS": "*"}, ("bob", "pw"), "*"),
    ],
)  # fmt: skip
def test_command_line_sets_ui_auth_and_cors(monkeypatch, argv, env, auth, cors) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = config_from_args(build_parser().parse_args(argv))
    assert (config.ui_auth, config.cors) == (auth, cors)


def test_ui_auth_without_a_colon_is_refused() -> None:
    with pytest.raises(ConfigError, match="USER:PASS"):
        config_from_args(build_parser().parse_args(["--ui-auth", "nocolon"]))

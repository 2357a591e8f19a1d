"""Request guards for UI and API: the Host check, basic auth, a body size cap, opt-in CORS."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Flask, Response, jsonify, request

from mailtrap_lite.config import Config

from . import hosts
from .throttle import FailureLimit

log = logging.getLogger(__name__)

REALM = "mailtrap-lite"
API_PREFIXES = ("/api/", "/compat/")  # JSON and CORS here; pages elsewhere
CORS_HEADERS = "Authorization, Content-Type, Last-Event-ID"
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
OPEN_PATHS = frozenset({"/livez", "/readyz"})  # reachable without credentials
OPEN_CORS_WARNING = (
    "--cors * without --ui-auth lets every website you visit read and delete all captured"
    " mail through this browser; name the origins that may call the API, or add --ui-auth"
)


def install_security(app: Flask, config: Config) -> None:
    """Check Host; cap request bodies; require basic auth with --ui-auth; answer CORS if asked."""
    app.config["MAX_CONTENT_LENGTH"] = config.http_max_body
    install_host_check(app, listener_hosts(config), config.allowed_hosts)
    if config.ui_auth is not None:
        install_basic_auth(app, config)
    if config.cors is not None:
        origins = [o.strip() for o in config.cors.split(",") if o.strip()]
        if "*" in origins and config.ui_auth is None:
            log.warning(OPEN_CORS_WARNING)
        app.after_request(lambda response: _allow_origin(response, origins))


def listener_hosts(config: Config) -> list[str]:
    """Return the host names of every web listener (--http, --mailpit-http, --mailhog-http)."""
    addresses = (config.http, config.mailpit_http, config.mailhog_http)
    return [address.host for address in addresses if address is not None]


def install_host_check(app: Flask, bound_hosts: list[str], extra: tuple[str, ...]) -> None:
    """Refuse requests for Host names not answered here (403), before anything else runs.

    Every listener answers the names of them all: one server, reached by any of its names.
    """
    names = hosts.allowed_names(bound_hosts, extra)

    def check() -> Any:
        header = request.headers.get("Host")
        if request.path in hosts.OPEN_PATHS or hosts.host_allowed(header, names):
            return None
        return _refuse(hosts.refusal(header or ""))

    app.before_request(check)


def _refuse(reason: str) -> Response:
    """Answer 403 with the reason, JSON under /api/ and /compat/."""
    if request.path.startswith(API_PREFIXES):
        response = jsonify(error=reason)
    else:
        response = Response(reason + "\n", mimetype="text/plain")
    response.status_code = 403
    return response


def install_basic_auth(app: Flask, config: Config) -> None:
    """Require --ui-auth's credentials; refuse an address after too many wrong ones (429)."""
    assert config.ui_auth is not None
    credentials, cors = config.ui_auth, config.cors is not None
    failures = FailureLimit(config.http_auth_failures, config.http_auth_window)

    def check() -> Any:
        # CORS preflights never carry credentials (Fetch standard), so they pass.
        if cors and request.method == "OPTIONS":
            return None
        if request.path in OPEN_PATHS:  # health checks: they reveal nothing but "ok"
            return None
        address = request.remote_addr or "unknown"
        wait = failures.retry_after(address)
        if wait:
            return _too_many_failures(wait)
        if request.authorization is None:
            return _challenge()  # no guess made: a browser asks its user first
        if _authorized(credentials):
            failures.succeeded(address)
            return None
        count = failures.failed(address)
        log.info("HTTP basic auth failed from %s (%d in %g s)", address, count, failures.window)
        if count == failures.limit:
            log.warning("HTTP basic auth failed %d times from %s within %g s; refusing it",
                        count, address, failures.window)  # fmt: skip
        return _challenge()

    app.before_request(check)


def _too_many_failures(retry_after: int) -> Response:
    """Answer 429 (RFC 6585 §4) to an address that sent too many wrong passwords."""
    reason = "too many failed logins from this address; try again later"
    if request.path.startswith(API_PREFIXES):
        response = jsonify(error=reason)
    else:
        response = Response(reason + "\n", mimetype="text/plain")
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def _authorized(credentials: tuple[str, str]) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    user_ok = hmac.compare_digest((auth.username or "").encode(), credentials[0].encode())
    password_ok = hmac.compare_digest((auth.password or "").encode(), credentials[1].encode())
    return user_ok and password_ok


def _challenge() -> Response:
    """Answer 401 with a basic auth challenge (RFC 7617), JSON under /api/."""
    if request.path.startswith(API_PREFIXES):
        response = jsonify(error="authentication required")
    else:
        response = Response("authentication required\n", mimetype="text/plain")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def _allow_origin(response: Response, origins: list[str]) -> Response:
    """Add CORS headers to API responses for an allowed origin ("*" allows any).

    Every API response says `Vary: Origin`, with or without an Origin header: its CORS
    headers depend on it, and a cache must not hand one origin's answer to another.
    """
    if not request.path.startswith(API_PREFIXES):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is None:
        return response
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    else:
        return response
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response

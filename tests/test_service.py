"""Running as a service: /livez, /readyz, `mailtrap-lite health`, and the new flags."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from mailtrap_lite.cli.serve import build_parser, config_from_args
from tests.apiserver import Served
from tests.process import ServerProcess, run_cli

Launch = Callable[..., ServerProcess]


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_health_checks_answer_ok_without_credentials(path: str) -> None:
    served = Served(ui_auth=("u", "p"))
    try:
        reply = served.get(path)
        assert (reply.status, reply.body) == (200, b"ok\n")
        assert served.get("/api/v1/health").status == 401
    finally:
        served.stop()


def test_the_health_command_exits_0_when_the_server_is_ready(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:")
    result = run_cli("health", "--url", server.info["http"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ready: {server.info['http']}/readyz"
    server.stop()


def test_the_health_command_reads_the_http_address_from_the_environment(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:")
    address = server.info["http"].removeprefix("http://")
    assert run_cli("health", env={"MAILTRAP_LITE_HTTP": address}).returncode == 0
    server.stop()


def test_the_health_command_exits_1_when_nothing_answers() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = run_cli("health", "--url", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert result.returncode == 1
    assert f"http://127.0.0.1:{port}/readyz" in result.stderr and "Traceback" not in result.stderr


def test_the_new_flags_reach_the_config(tmp_path: Path) -> None:
    relay = tmp_path / "relay.toml"
    args = build_parser().parse_args([
        "--tag", "invoice=subject:invoice", "--tag", "vip=from:boss@example.com",
        "--no-plus-tags", "--relay-config", str(relay), "--relay-matching", "tag:vip",
        "--webhook", "http://127.0.0.1:9/a", "--webhook", "https://hooks.example/b",
        "--webhook-secret", "s", "--metrics", "off", "--max-age", "12h",
    ])  # fmt: skip
    config = config_from_args(args)
    assert config.tag_rules == (("invoice", "subject:invoice"), ("vip", "from:boss@example.com"))
    assert (config.plus_tags, config.relay_config) == (False, relay)
    assert config.relay_matching == "tag:vip"
    assert config.webhooks == ("http://127.0.0.1:9/a", "https://hooks.example/b")
    assert (config.webhook_secret, config.metrics, config.max_age) == ("s", False, 43200.0)


def test_tag_rules_and_webhooks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILTRAP_LITE_TAG", "a=subject:a\nb=subject:b")
    monkeypatch.setenv("MAILTRAP_LITE_WEBHOOK", "http://127.0.0.1:9/a,http://127.0.0.1:9/b")
    monkeypatch.setenv("MAILTRAP_LITE_MAX_AGE", "90m")
    config = config_from_args(build_parser().parse_args([]))
    assert config.tag_rules == (("a", "subject:a"), ("b", "subject:b"))
    assert len(config.webhooks) == 2 and config.max_age == 5400.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "no-query"], "--tag: expected NAME=QUERY"),
        (["--tag", "x=before:nope"], "bad date"),
        (["--tag", "a/b=subject:x"], "bad tag"),
        (["--webhook", "ftp://x"], "--webhook: expected an http:// or https:// URL"),
        (["--metrics", "maybe"], "--metrics: expected one of on, off"),
        (["--max-age", "3x"], "--max-age: expected a duration"),
        (["--relay-matching", "is:nothing"], "--relay-matching: unknown value"),
        (["--relay-config", "/nonexistent/relay.toml"], "cannot read --relay-config"),
        (["--relay-matching", "subject:x"], "--relay-matching needs --relay-config"),
    ],
)
def test_bad_values_of_the_new_flags_are_clear_errors(args: list[str], message: str) -> None:
    result = run_cli(*args, "--smtp", "127.0.0.1:0", "--http", "off", "--db", ":memory:")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_relay_matching_without_an_allow_list_is_refused_at_start(tmp_path: Path) -> None:
    relay = tmp_path / "relay.toml"
    relay.write_text('host = "127.0.0.1"\nport = 2525\ntls = "none"\n')
    result = run_cli("--relay-config", str(relay), "--relay-matching", "subject:x",
                     "--smtp", "127.0.0.1:0", "--http", "off", "--db", ":memory:")  # fmt: skip
    assert result.returncode == 2
    assert "allowed_recipients" in result.stderr


def test_a_server_started_with_the_flags_serves_them(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:",
                    "--tag", "t=subject:x", "--max-age", "3d", "--webhook",
                    "http://127.0.0.1:9/hook")  # fmt: skip
    base = server.info["http"]
    with urllib.request.urlopen(base + "/api/v1/tags", timeout=10) as reply:
        assert json.load(reply) == {"tags": []}
    with urllib.request.urlopen(base + "/metrics", timeout=10) as reply:
        assert b"mailtrap_lite_messages_stored_total 0.0" in reply.read()
    code, err = server.stop()
    assert code == 0 and "Traceback" not in err

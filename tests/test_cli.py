"""The command line: start-up lines, environment variables, clean stops and clear errors."""

from __future__ import annotations

import signal
import smtplib
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from mailtrap_lite.store.sqlite import SQLiteStore
from tests.process import ServerProcess, run_cli

Launch = Callable[..., ServerProcess]


def _send(host: str, port: int, subject: str) -> None:
    with smtplib.SMTP(host, port) as client:
        client.sendmail("s@example.com", ["r@example.com"], f"Subject: {subject}\r\n\r\nx\r\n")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_mail_committed(tmp_path: Path, sig: int, launch: Launch) -> None:
    db = tmp_path / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db))
    assert server.info["db"] == str(db) and server.info["http"] == "off"
    _send(*server.smtp, "kept")
    code, err = server.stop(sig)
    assert code == 0
    assert "Traceback" not in err
    store = SQLiteStore(db)
    assert [m.subject for m in store.list_messages().messages] == ["kept"]
    store.close()


def test_open_session_is_closed_with_421_on_shutdown(tmp_path: Path, launch: Launch) -> None:
    db = tmp_path / "mail.db"
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(db))
    client = smtplib.SMTP(*server.smtp)
    try:
        client.ehlo()
        code, _ = server.stop()
        assert code == 0
        reply_code, reply = client.noop()  # the 421 sent at shutdown, read now
        assert reply_code == 421 and reply.startswith(b"4.3.2")
    finally:
        client.close()
    store = SQLiteStore(db)
    [session] = store.list_sessions()
    assert session.end_reason == "shutdown"
    store.close()


def test_environment_variables_configure_the_server(tmp_path: Path, launch: Launch) -> None:
    env = {"MAILTRAP_LITE_SMTP": "127.0.0.1:0", "MAILTRAP_LITE_HTTP": "off",
           "MAILTRAP_LITE_DB": str(tmp_path / "env.db")}  # fmt: skip
    server = launch(env=env)
    assert server.info["db"] == str(tmp_path / "env.db")
    assert server.smtp[0] == "127.0.0.1"
    assert server.stop()[0] == 0


def test_flags_win_over_the_environment(tmp_path: Path, launch: Launch) -> None:
    env = {"MAILTRAP_LITE_DB": str(tmp_path / "env.db")}
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(tmp_path / "f.db"),
                          env=env)  # fmt: skip
    assert server.info["db"] == str(tmp_path / "f.db")
    server.stop()


def test_memory_database_is_a_temporary_file_removed_at_exit(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", ":memory:")
    assert server.info["db"] == ":memory:"
    _send(*server.smtp, "gone")
    assert server.stop()[0] == 0


def test_http_api_is_served_and_reports_the_smtp_address(tmp_path: Path, launch: Launch) -> None:
    import json
    import urllib.request

    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:")
    with urllib.request.urlopen(server.info["http"] + "/api/v1/health", timeout=10) as response:
        health = json.load(response)
    assert health["status"] == "ok"
    assert health["smtp"] == server.info["smtp"]
    server.stop()


def test_address_in_use_is_a_clear_error_with_status_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--smtp", f"127.0.0.1:{port}", "--http", "off", "--db", ":memory:")
    assert result.returncode == 2
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--smtp", "127.0.0.1:99999"], "port must be a number"),
        (["--max-messages", "many"], "expected a whole number"),
        (["--auth", "no-colon"], "expected USER:PASS"),
        (["--idle-timeout", "-1"], "positive number of seconds"),
        (["--auth-file", "/nonexistent/auth.txt"], "cannot read --auth-file"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_clear_errors_with_status_2(args: list[str], message: str) -> None:
    result = run_cli(*args, "--http", "off", "--db", ":memory:")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unusable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(blocker / "mail.db"))
    assert result.returncode == 2
    assert "cannot use database" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_database_file_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", str(junk))
    assert result.returncode == 2
    assert "cannot use database" in result.stderr


def test_auth_file_credentials_are_enforced(tmp_path: Path, launch: Launch) -> None:
    auth = tmp_path / "auth.txt"
    auth.write_text("# team\napp:s3cret\n")
    server = launch("--smtp", "127.0.0.1:0", "--http", "off", "--db", ":memory:",
                          "--auth-file", str(auth))  # fmt: skip
    with smtplib.SMTP(*server.smtp) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("app", "wrong")
    with smtplib.SMTP(*server.smtp) as client:
        client.login("app", "s3cret")
    server.stop()


def test_a_bad_flag_is_one_line_pointing_at_help() -> None:
    result = run_cli("--max-messages", "many", "--http", "off")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "mailtrap-lite: error: --max-messages: expected a whole number, got 'many'; see --help"
    ]


def test_a_bad_environment_variable_is_named() -> None:
    result = run_cli("--http", "off", env={"MAILTRAP_LITE_MAX_MESSAGES": "many"})
    assert result.returncode == 2
    assert "MAILTRAP_LITE_MAX_MESSAGES: expected a whole number, got 'many'" in result.stderr
    assert "--max-messages" not in result.stderr


def test_a_bad_switch_variable_is_named() -> None:
    result = run_cli("--http", "off", env={"MAILTRAP_LITE_REQUIRE_AUTH": "maybe"})
    assert result.returncode == 2
    assert "MAILTRAP_LITE_REQUIRE_AUTH: expected 1 or 0" in result.stderr


def test_help_describes_every_option_with_its_variable() -> None:
    from mailtrap_lite.cli.serve import OPTIONS

    text = " ".join(run_cli("--help").stdout.split())  # argparse wraps lines
    for option in OPTIONS:
        assert f"env {option.env}" in text, option.flag
    assert "(default: localhost:1025; env MAILTRAP_LITE_SMTP)" in text

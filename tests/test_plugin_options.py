"""Plugin options (flag > environment > ini), --smtp-sink-ui and -keep, and disabling it."""

from __future__ import annotations

import pytest

from mailtrap_lite.store.sqlite import SQLiteStore

WAIT_FOR_NOTHING = """
def test_waits(smtp_sink):
    smtp_sink.wait_for()
"""

SEND_ONE = """
import json, smtplib, urllib.request

def test_sends(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("app@example.com", ["u@example.com"], b"Subject: kept\\r\\n\\r\\nhi\\r\\n")
    if smtp_sink.ui_url:
        with urllib.request.urlopen(smtp_sink.ui_url + "/api/v1/health", timeout=10) as reply:
            health = json.load(reply)
        assert health["smtp"] == f"{smtp_sink.host}:{smtp_sink.port}"
        assert health["messages"] == 1
"""


@pytest.mark.parametrize(
    ("flag", "env", "ini", "used"),
    [("0.3", "0.2", "0.1", "0.3"), (None, "0.2", "0.1", "0.2"), (None, None, "0.1", "0.1")],
)
def test_timeout_option_prefers_flag_then_environment_then_ini(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    ini: str | None,
    used: str,
) -> None:
    pytester.makepyfile(test_wait=WAIT_FOR_NOTHING)
    if ini:
        pytester.makeini(f"[pytest]\nsmtp_sink_timeout = {ini}\n")
    if env:
        monkeypatch.setenv("SMTP_SINK_TIMEOUT", env)
    result = pytester.runpytest(*(["--smtp-sink-timeout", flag] if flag else []))
    result.stdout.fnmatch_lines([f"*within {used} s, found 0*"])


def test_timeout_defaults_to_five_seconds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_view="def test_view(smtp_sink):\n    assert smtp_sink.timeout == 5")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (["--smtp-sink-timeout", "soon"], {}, "--smtp-sink-timeout: expected a number of seconds"),
        ([], {"SMTP_SINK_UI": "maybe"}, "SMTP_SINK_UI: expected one of"),
        (["--smtp-sink-url", "localhost:8025"], {}, "--smtp-sink-url: expected an http(s) URL"),
    ],
)
def test_bad_option_is_a_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    error: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.stderr.str()


def test_ui_option_serves_the_web_app_and_reports_its_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_send=SEND_ONE)
    result = pytester.runpytest("--smtp-sink-ui")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "smtp_sink: main: smtp 127.0.0.1:*, ui http://127.0.0.1:*",
        "*= smtp_sink =*",
        "main: smtp 127.0.0.1:*, ui http://127.0.0.1:*",
    ])  # fmt: skip


def test_ui_option_under_xdist_lists_each_workers_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_send=SEND_ONE)
    result = pytester.runpytest_subprocess("-n", "2", "--smtp-sink-ui")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "smtp_sink: one sink per xdist worker; addresses in the summary",
        "*= smtp_sink =*",
        "gw*: *",
        "gw*: *",
    ])  # fmt: skip


def test_keep_option_keeps_the_database_of_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_send=SEND_ONE)
    for _ in range(2):  # the second run replaces the first run's database
        result = pytester.runpytest("--smtp-sink-keep")
        result.assert_outcomes(passed=1)
    db = pytester.path / ".pytest_cache" / "d" / "smtp-sink" / "main.db"
    result.stdout.fnmatch_lines([f"main: smtp 127.0.0.1:*, db {db} (view it with: *)"])
    store = SQLiteStore(db)
    try:
        assert [m.subject for m in store.list_messages().messages] == ["kept"]
    finally:
        store.close()


def test_disabled_plugin_provides_no_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_wait=WAIT_FOR_NOTHING)
    result = pytester.runpytest("-p", "no:mailtrap_lite")
    result.stdout.fnmatch_lines(["*fixture 'smtp_sink' not found*"])


def test_sink_starts_only_when_a_test_asks_for_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import threading
        def test_plain():
            assert not [t for t in threading.enumerate() if t.name.startswith("mailtrap-lite")]
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)  # alone in its process

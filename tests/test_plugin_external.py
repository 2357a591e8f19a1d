"""External mode: the fixture reads a running `mailtrap-lite serve` through its JSON API."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

SUITE = """
import smtplib, threading
import pytest

def send(sink, subject, login=True):
    with smtplib.SMTP(sink.host, sink.port) as client:
        if login:
            client.login(*sink.credentials)
        client.sendmail("app@example.com", ["user@example.com"],
                        f"Subject: {subject}\\r\\n\\r\\nhttps://x.example/a?b=1&c=2\\r\\n".encode())

@pytest.mark.parametrize("n", range(4))
def test_each_test_sees_only_its_own_mail(smtp_sink, n):
    assert smtp_sink.messages == []
    send(smtp_sink, f"m{n}")
    message = smtp_sink.wait_for(subject=f"m{n}")
    assert message.link() == "https://x.example/a?b=1&c=2"
    assert message.session.auth_user == smtp_sink.credentials[0]
    smtp_sink.assert_sent(1)

def test_waits_on_the_server_for_late_mail(smtp_sink):
    threading.Timer(0.3, send, (smtp_sink, "late")).start()
    assert smtp_sink.wait_for(subject="late").subject == "late"

def test_env_names_this_workers_inbox(smtp_sink, smtp_sink_env):
    assert (smtp_sink_env["SMTP_USER"], smtp_sink_env["SMTP_PASSWORD"]) == smtp_sink.credentials
    assert smtp_sink_env["SMTP_USER"].startswith("pytest-")

def test_mail_without_login_is_not_this_tests_and_the_failure_says_why(smtp_sink):
    send(smtp_sink, "anonymous", login=False)
    with pytest.raises(AssertionError, match="SMTP AUTH user"):
        smtp_sink.wait_for(timeout=0.3)
"""


@pytest.fixture
def server_url() -> Iterator[str]:
    command = [sys.executable, "-m", "mailtrap_lite", "serve", "--smtp", "127.0.0.1:0",
               "--http", "127.0.0.1:0", "--db", ":memory:"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]  # smtp:, http:, db:
        [url] = [line.split()[1] for line in lines if line.startswith("http:")]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def has_wait_api(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/wait?timeout=0", timeout=10):
            return True
    except urllib.error.HTTPError as error:
        error.close()
        return error.code != 404


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["one process", "xdist -n 2"])
def test_external_mode_against_a_running_server(
    pytester: pytest.Pytester, server_url: str, args: list[str]
) -> None:
    if not has_wait_api(server_url):
        pytest.skip("this build's server has no /api/v1/wait (the JSON API is not merged)")
    pytester.makepyfile(test_external=SUITE)
    result = pytester.runpytest_subprocess("--smtp-sink-url", server_url, *args)
    result.assert_outcomes(passed=7)


def test_unreachable_server_fails_the_test_with_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_external="def test_sends(smtp_sink):\n    pass\n")
    result = pytester.runpytest_subprocess("--smtp-sink-url", "http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RemoteError: cannot reach mailtrap-lite at http://127.0.0.1:9*"])

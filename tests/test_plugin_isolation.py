"""Each test sees only its own mail: with and without xdist, and across reused connections."""

from __future__ import annotations

import pytest

SUITE = """
import smtplib
import pytest

@pytest.mark.parametrize("n", range(6))
def test_sees_only_its_own_mail(smtp_sink, n):
    assert smtp_sink.messages == []
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("app@example.com", [f"user{n}@example.com"],
                        f"Subject: message {n}\\r\\n\\r\\nhi\\r\\n".encode())
    message = smtp_sink.wait_for(to=f"user{n}@example.com")
    assert [m.subject for m in smtp_sink.messages] == [f"message {n}"]
    smtp_sink.assert_sent(subject=f"message {n}")
"""

REUSED_CONNECTION = """
import smtplib

pool = {}

def send(client, subject):
    client.sendmail("app@example.com", ["user@example.com"],
                    f"Subject: {subject}\\r\\n\\r\\nhi\\r\\n".encode())

def test_opens_the_connection(smtp_sink):
    pool["client"] = smtplib.SMTP(smtp_sink.host, smtp_sink.port)
    send(pool["client"], "first")
    assert [m.subject for m in smtp_sink.messages] == ["first"]

def test_something_in_between(smtp_sink):
    assert smtp_sink.messages == []

def test_reuses_the_connection(smtp_sink):
    send(pool["client"], "second")
    pool["client"].quit()
    assert [m.subject for m in smtp_sink.messages] == ["second"]
"""


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["one process", "xdist -n 2"])
def test_consecutive_tests_see_only_their_own_mail(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=6)


def test_mail_over_a_session_from_an_earlier_test_counts_with_a_warning(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_pool=REUSED_CONNECTION)
    result = pytester.runpytest_subprocess()  # this suite turns warnings into errors
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines([
        "*EarlierSessionWarning: message #2 'second' counts for"
        " test_pool.py::test_reuses_the_connection, but its SMTP session #1 began in"
        " test_pool.py::test_opens_the_connection*",
    ])  # fmt: skip


def test_mail_acknowledged_after_a_test_ended_is_not_in_that_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_late="""
        import smtplib, threading

        def send(host, port):
            with smtplib.SMTP(host, port) as client:
                client.sendmail("app@example.com", ["u@example.com"], b"Subject: late\\r\\n\\r\\n.")

        def test_leaves_a_sender_behind(smtp_sink):
            threading.Timer(0.3, send, (smtp_sink.host, smtp_sink.port)).start()
            assert smtp_sink.messages == []

        def test_next(smtp_sink):
            assert smtp_sink.wait_for(subject="late").subject == "late"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


BETWEEN_TESTS_CONFTEST = """
import smtplib
import pytest

ADDRESS = {}

@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid):
    # After the first test's teardown, before the next test's setup: nobody's time.
    if nodeid.endswith("test_first") and ADDRESS:
        with smtplib.SMTP(*ADDRESS["sink"]) as client:
            client.sendmail("app@example.com", ["u@example.com"], b"Subject: stray\\r\\n\\n.")
"""

BETWEEN_TESTS = """
from conftest import ADDRESS

def test_first(smtp_sink):
    ADDRESS["sink"] = (smtp_sink.host, smtp_sink.port)

def test_second(smtp_sink):
    assert smtp_sink.messages == []
"""


def test_mail_between_two_tests_belongs_to_neither_and_is_reported(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(BETWEEN_TESTS_CONFTEST)
    pytester.makepyfile(test_between=BETWEEN_TESTS)
    result = pytester.runpytest_subprocess()  # this suite turns warnings into errors
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines([
        "test_between.py::test_second",
        "*UnclaimedMailWarning: 1 message(s) arrived after test_between.py::test_first ended"
        " and before test_between.py::test_second began, so no test sees them: #1 'stray'*",
    ])  # fmt: skip

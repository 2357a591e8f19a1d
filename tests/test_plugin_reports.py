"""What a failing test shows: the user's own line, what arrived, and a section of captured mail."""

from __future__ import annotations

import pytest

FAILING = """
import smtplib

def send(sink, subject, to):
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("app@example.com", [to], f"Subject: {subject}\\r\\n\\r\\nhi\\r\\n".encode())

def test_waits_for_the_wrong_recipient(smtp_sink):
    send(smtp_sink, "Welcome aboard", "alice@example.com")
    send(smtp_sink, "Your invoice", "alice@example.com")
    smtp_sink.wait_for(to="bob@example.com", subject="Welcome aboard", timeout=0.2)

def test_fails_for_another_reason(smtp_sink):
    send(smtp_sink, "Receipt", "carol@example.com")
    assert 1 == 2

def test_passes(smtp_sink):
    send(smtp_sink, "Quiet", "dave@example.com")
"""


@pytest.fixture
def outcome(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_failing=FAILING)
    return pytester.runpytest()


def test_failure_names_the_expectation_and_lists_the_subjects_that_arrived(
    outcome: pytest.RunResult,
) -> None:
    outcome.assert_outcomes(failed=2, passed=1)
    outcome.stdout.fnmatch_lines([
        "E   * expected 1 message matching to='bob@example.com' subject='Welcome aboard'"
        " within 0.2 s, found 0",
        "E   *2 message(s) arrived during this test:",
        "E   *id*time (UTC)*from*to*subject",
        "E   *#1*app@example.com*alice@example.com*'Welcome aboard'",
        "E   *#2*app@example.com*alice@example.com*'Your invoice'",
        "E   *closest candidates:",
        "E   *#1 'Welcome aboard': to: envelope to alice@example.com",
    ])  # fmt: skip


def test_failure_points_at_the_users_line_not_the_plugin(outcome: pytest.RunResult) -> None:
    outcome.stdout.fnmatch_lines(['>*smtp_sink.wait_for(to="bob@example.com"*'])
    assert "sinkview.py" not in outcome.stdout.str()


def test_failing_test_gets_a_captured_mail_section(outcome: pytest.RunResult) -> None:
    outcome.stdout.fnmatch_lines([
        "*_ test_fails_for_another_reason _*",
        "*assert 1 == 2*",
        "*- Captured mail call -*",
        "1 message(s) captured during this test (sink 127.0.0.1:*):",
        "*#3*carol@example.com*'Receipt'",
    ])  # fmt: skip


def test_passing_test_gets_no_mail_section(outcome: pytest.RunResult) -> None:
    assert "'Quiet'" not in outcome.stdout.str()

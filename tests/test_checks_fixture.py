"""The fixture: message.checks() and smtp_sink.assert_deliverable(message, ignore=[...])."""

from __future__ import annotations

import smtplib

import pytest

from mailtrap_lite.testing import MailAssertionError, Sink, SinkView
from mailtrap_lite.testing.remote import RemoteInbox
from tests.apiserver import Served, make_message, send_mail
from tests.checkmail import clean_message, crlf, keys_for, sign
from tests.sessionwait import ended_sessions

WELCOME = crlf(make_message("Welcome {{ name }}"))  # no Date, no Message-ID, a placeholder


def test_checks_of_a_captured_message_list_failures_first(sink: Sink) -> None:
    view = SinkView(sink)
    send_mail(sink, WELCOME)
    report = view.wait_for().checks()
    assert [c.id for c in report.failures] == [
        "format.message-id", "format.date", "content.placeholders"
    ]  # fmt: skip
    assert report.checks[: len(report.failures)] == tuple(report.failures)


def test_assert_deliverable_passes_well_made_signed_mail_and_returns_its_report(make_sink) -> None:
    sink = make_sink(dkim_keys=keys_for())
    view = SinkView(sink)
    send_mail(sink, sign(crlf(clean_message())))
    report = view.assert_deliverable(view.wait_for())
    assert report.summary["fail"] == 0 and report.summary["warn"] == 0


def test_assert_deliverable_lists_each_failing_check_with_its_detail(sink: Sink) -> None:
    view = SinkView(sink)
    send_mail(sink, WELCOME)
    message = view.wait_for()
    with pytest.raises(MailAssertionError) as failure:
        view.assert_deliverable(message)
    assert str(failure.value).splitlines() == [
        f"message #{message.id} 'Welcome {{{{ name }}}}' would not be delivered as sent:"
        " 3 checks fail",
        "  format.message-id: No Message-ID header",
        "      Gmail refuses messages without a valid Message-ID, and threads and replies"
        " need it.",
        "      (RFC 5322 §3.6.4; Gmail sender guidelines)",
        "  format.date: No Date header",
        "      Every message needs a Date header (the origination date).",
        "      (RFC 5322 §3.3, §3.6.1)",
        "  content.placeholders: Unreplaced template placeholder",
        "      '{{ name }}' in the subject: …Welcome {{ name }}…",
        "      (Template output: the recipient sees the placeholder itself)",
        "(to accept one: assert_deliverable(message, ignore=['format.message-id']))",
    ]


@pytest.mark.parametrize(
    ("ignore", "still_failing"),
    [
        (["format.message-id", "format.date"], ["content.placeholders"]),
        (["format"], ["content.placeholders"]),  # a whole category
        (["format.*", "content.*"], []),  # globs
    ],
)
def test_ignored_checks_do_not_fail(sink: Sink, ignore: list[str],
                                    still_failing: list[str]) -> None:  # fmt: skip
    view = SinkView(sink)
    send_mail(sink, WELCOME)
    message = view.wait_for()
    if not still_failing:
        view.assert_deliverable(message, ignore=ignore)
        return
    with pytest.raises(MailAssertionError) as failure:
        view.assert_deliverable(message, ignore=ignore)
    listed = [line.split(":")[0].strip() for line in str(failure.value).splitlines()[1:-1]
              if line.startswith("  ") and not line.startswith("    ")]  # fmt: skip
    assert listed == still_failing


def test_report_of_a_message_in_an_open_session_is_kept_only_once_the_session_ends(
    sink: Sink,
) -> None:
    client = smtplib.SMTP(sink.host, sink.port)
    client.sendmail("hello@shop.example.com", ["ada@example.org"], crlf(clean_message()))
    [message] = sink.wait_for()
    before = sink.reports.computed
    message.checks()
    message.checks()
    assert sink.reports.computed == before + 2  # the session may still address more people
    client.quit()
    ended_sessions(sink)  # the session's end is stored just after the connection closes
    message.checks()
    message.checks()
    assert sink.reports.computed == before + 3


def test_external_mode_reads_the_report_over_the_api(served: Served) -> None:
    view = SinkView(RemoteInbox(served.url, "pytest-gw0"))
    with smtplib.SMTP(served.sink.host, served.sink.port) as client:
        client.login("pytest-gw0", "secret")
        client.sendmail("app@example.com", ["ada@example.org"], WELCOME)
    message = view.wait_for()
    assert [c.id for c in message.checks().failures] == [
        "format.message-id", "format.date", "content.placeholders"
    ]  # fmt: skip
    with pytest.raises(MailAssertionError, match="3 checks fail"):
        view.assert_deliverable(message)


SUITE = """
import smtplib

def test_welcome_mail_is_deliverable(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("app@example.com", ["ada@example.org"],
                        b"From: app@example.com\\r\\nSubject: Hi {{ name }}\\r\\n\\r\\nhello\\r\\n")
    smtp_sink.assert_deliverable(smtp_sink.wait_for(), ignore=["format"])
"""


def test_plugin_failure_shows_the_failing_checks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_welcome=SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   * 'Hi {{ name }}' would not be delivered as sent: 1 check fails",
        "E   *content.placeholders: Unreplaced template placeholder",
    ])  # fmt: skip

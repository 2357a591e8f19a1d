"""SpamAssassin's score through a real spamd on 127.0.0.1 (the `spamd` fixture, spamdkit.py).

Scores depend on the installed rules, so the tests assert only that GTUBE, SpamAssassin's
test pattern, scores at or above the threshold.
"""

from __future__ import annotations

import socket
import threading

from mailtrap_lite.checks import Checker
from mailtrap_lite.checks.spam import MAX_BYTES
from mailtrap_lite.config import Address
from tests.apiserver import send_mail
from tests.checkmail import clean_message, crlf, found, status
from tests.spamdkit import GTUBE, free_port


def _gtube() -> bytes:
    message = clean_message(Subject="Test message")
    message.clear_content()
    message.set_content(f"This is the GTUBE test pattern:\n{GTUBE}\n")
    return crlf(message)


def test_gtube_scores_at_or_above_the_threshold(spamd: Address) -> None:
    report = Checker(spamd=spamd).check_file(_gtube())
    [score] = [c for c in report.checks if c.id == "spam.score"]
    assert score.status == "fail" and score.title == "SpamAssassin scores it as spam"
    points, threshold = score.detail.split(";")[0].removeprefix("Score ").split(", threshold ")
    assert float(points) >= float(threshold)
    [rule] = found(report, "spam.rule.GTUBE")
    assert rule.startswith("info: GTUBE (+") and "Generic Test for Unsolicited Bulk Email" in rule


def test_clean_mail_is_not_scored_as_spam(spamd: Address) -> None:
    report = Checker(spamd=spamd).check_file(crlf(clean_message()))
    assert status(report, "spam.score") == "pass"


def test_captured_gtube_message_reports_spam_through_the_sink(make_sink, spamd: Address) -> None:
    sink = make_sink(spamd=spamd)
    send_mail(sink, _gtube())
    [message] = sink.wait_for()
    report = message.checks()
    assert status(report, "spam.score") == "fail"
    assert report.checks[0].status == "fail"  # failing checks come first
    assert sink.reports.failures(message.id) == report.summary["fail"]


def test_without_spamd_there_is_no_spam_check() -> None:
    report = Checker().check_file(_gtube())
    assert [c for c in report.checks if c.category == "spam"] == []


def test_unreachable_spamd_is_noted_and_asked_again_later(make_sink) -> None:
    port = free_port()  # nothing listens there
    sink = make_sink(spamd=Address("127.0.0.1", port))
    send_mail(sink, crlf(clean_message()))
    [message] = sink.wait_for()
    [result] = found(message.checks(), "spam.score")
    assert result.startswith("info: SpamAssassin did not answer")
    with socket.socket() as listener:  # now something answers, though not spamd
        listener.bind(("127.0.0.1", port))
        listener.listen()
        listener.settimeout(10)
        asked: list[bool] = []

        def answer() -> None:
            connection, _ = listener.accept()
            asked.append(True)
            connection.close()

        thread = threading.Thread(target=answer)
        thread.start()
        [again] = found(sink.reports.report(message.id), "spam.score")
        thread.join(10)
    assert asked == [True]  # the failure was not kept: spamd was asked again
    assert again.startswith("info: SpamAssassin did not answer")


def test_message_too_large_for_spamassassin_is_not_sent() -> None:
    port = free_port()  # a spamd that is not there would fail the check if it were asked
    big = crlf(clean_message()) + b"x" * MAX_BYTES
    [result] = found(Checker(spamd=Address("127.0.0.1", port)).check_file(big), "spam.score")
    assert result.startswith("info: Not scored: too large for SpamAssassin")


def test_mailpit_sa_check_answers_from_the_report(make_served, spamd: Address) -> None:
    served = make_served(spamd=spamd)
    served.send(_gtube())
    message_id = served.get("/api/v1/messages").json()["messages"][0]["id"]
    result = served.get(f"/compat/mailpit/api/v1/message/{message_id}/sa-check").json()
    assert result["Error"] == "" and result["IsSpam"] is True
    [gtube] = [rule for rule in result["Rules"] if rule["Name"] == "GTUBE"]
    assert gtube["Score"] > 0 and "Generic Test for Unsolicited Bulk Email" in gtube["Description"]
    assert served.get("/compat/mailpit/api/v1/webui").json()["SpamAssassin"] is True
    kept = served.sink.reports.spam(int(message_id))
    assert kept is served.sink.reports.spam(int(message_id))  # spamd was asked once
    report = served.get(f"/api/v1/messages/{message_id}/checks").json()
    assert [c["status"] for c in report["checks"] if c["id"] == "spam.score"] == ["fail"]

"""The plugin's TLS fixture and fault helper, seen by real sending code."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import smtplib
import pytest


def send(host, port, to="user@example.com"):
    with smtplib.SMTP(host, port) as client:
        client.sendmail("app@example.com", [to], b"Subject: hi\\r\\n\\r\\nbody\\r\\n")


def test_starttls_with_verification(smtp_sink_tls):
    with smtplib.SMTP("localhost", smtp_sink_tls.sink.port) as client:
        client.starttls(context=smtp_sink_tls.context)
        client.login("app", "secret")
        client.sendmail("app@example.com", ["u@example.com"], b"Subject: tls\\r\\n\\r\\nx\\r\\n")
    message = smtp_sink_tls.sink.assert_sent(subject="tls")
    assert message.session.tls_version is not None
    assert smtp_sink_tls.ca_path.exists()


def test_implicit_tls(smtp_sink_tls):
    port, context = smtp_sink_tls.smtps_port, smtp_sink_tls.context
    with smtplib.SMTP_SSL("localhost", port, context=context) as c:
        c.sendmail("app@example.com", ["u@example.com"], b"Subject: smtps\\r\\n\\r\\nx\\r\\n")
    smtp_sink_tls.sink.assert_sent(subject="smtps")


def test_fault_is_seen_by_the_sending_code(smtp_sink):
    smtp_sink.fault("rcpt", 550, "No such user", match="*@bounce.test", times=1)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_sink.host, smtp_sink.port, to="gone@bounce.test")
    code, reply = refused.value.recipients["gone@bounce.test"]
    assert code == 550 and reply == b"5.1.1 No such user"
    send(smtp_sink.host, smtp_sink.port, to="gone@bounce.test")  # times=1: used up
    smtp_sink.assert_sent(to="gone@bounce.test")


def test_a_fault_ends_with_its_test_first(smtp_sink):
    smtp_sink.fault("mail", 451, "Try later")


def test_a_fault_ends_with_its_test_second(smtp_sink):
    send(smtp_sink.host, smtp_sink.port)
    smtp_sink.assert_sent()
"""


@pytest.mark.parametrize("args", [(), ("-n", "2")])
def test_tls_fixture_and_faults_work_in_a_suite(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=5)


def test_fault_helper_builds_an_enhanced_reply() -> None:
    from mailtrap_lite.smtp.faults import make_rule

    rule = make_rule("rcpt", 550, "No such user", to="*@x.test")
    assert rule.reply == "550 5.1.1 No such user" and rule.to == "*@x.test"
    assert make_rule("data", drop=True).action == "drop"
    assert make_rule("eom", delay_ms=20).delay_ms == 20

"""Fault injection: the rule grammar, and each kind of fault seen by real clients."""

from __future__ import annotations

import asyncio
import json
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiosmtplib
import pytest

from mailtrap_lite.smtp.faults import FaultError, FaultRule, FaultRules, MatchFacts, parse_rule
from mailtrap_lite.store.records import SessionRecord
from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessionwait import last_session

MESSAGE = b"Subject: faults\r\n\r\nbody\r\n"
MakeSink = Callable[..., Sink]


def injected_lines(session: SessionRecord) -> list[str]:
    assert session.transcript is not None
    return [entry.line for entry in session.transcript if entry.injected]


# -- the grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rcpt:to=*@bounce.test:550 5.1.1 No such user",
         FaultRule("rcpt", "reply", reply="550 5.1.1 No such user", to="*@bounce.test")),
        ("mail:451 4.3.0 Try later: busy",
         FaultRule("mail", "reply", reply="451 4.3.0 Try later: busy")),
        ("eom:times=1:drop", FaultRule("eom", "drop", times=1)),
        ("connect:delay=250", FaultRule("connect", "delay", delay_ms=250)),
        ("mail:probability=0.25,seed=7:451", FaultRule(
            "mail", "reply", reply="451 Requested action not taken (injected fault)",
            probability=0.25, seed=7)),
        ("AUTH:user=test*:535 5.7.8 Locked", FaultRule(
            "auth", "reply", reply="535 5.7.8 Locked", user="test*")),
        ("data:from=*@example.com,to=a@b.test,times=3:delay=10", FaultRule(
            "data", "delay", delay_ms=10, from_="*@example.com", to="a@b.test", times=3)),
    ],
)  # fmt: skip
def test_rule_text_is_parsed(text: str, expected: FaultRule) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "rcpt:to=*@bounce.test:550 5.1.1 No such user",
        "mail:probability=0.5,seed=3:451 4.3.0 Busy",
        "eom:times=2:drop",
        "ehlo:delay=0",
    ],
)
def test_rule_text_round_trips(text: str) -> None:
    rule = parse_rule(text)
    assert rule.to_text() == text
    assert parse_rule(rule.to_text()) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rcpt", "expected STAGE[:OPTIONS]:ACTION"),
        ("helo:550", "unknown stage 'helo'"),
        ("rcpt:to=*@x.test", "unknown action"),
        ("rcpt:250 Fine", "expected a 4xx or 5xx code"),
        ("rcpt:550 4.1.1 Mixed", "class must match"),
        ("mail:to=a@b.test:550", "to= does not apply at stage mail"),
        ("ehlo:user=bob:550", "user= does not apply at stage ehlo"),
        ("rcpt:times=0:550", "times= must be a whole number of at least 1"),
        ("rcpt:probability=2:550", "probability= must be a number above 0"),
        ("rcpt:probability=x:550", "probability= needs a number"),
        ("rcpt:seed=1:550", "seed= must be a whole number and comes with probability="),
        ("rcpt:delay=-5", "unknown action"),
        ("rcpt:delay=9999999", "delay must be"),
        ("rcpt:times=1,times=2:550", "times= is given twice"),
    ],
)
def test_bad_rule_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(FaultError) as error:
        parse_rule(text)
    assert message in str(error.value) and repr(text) in str(error.value)


def test_filters_are_case_insensitive_globs() -> None:
    rule = parse_rule("rcpt:to=*@Bounce.TEST:550")
    assert rule.matches(MatchFacts("rcpt", rcpt_to=("Someone@bounce.test",)))
    assert not rule.matches(MatchFacts("rcpt", rcpt_to=("someone@bounce.test.org",)))
    assert not rule.matches(MatchFacts("mail", rcpt_to=("someone@bounce.test",)))


def test_rules_round_trip_through_json() -> None:
    faults = FaultRules([parse_rule("rcpt:to=*@x.test,times=2:550"), parse_rule("eom:drop")])
    faults.fire(MatchFacts("rcpt", rcpt_to=("a@x.test",)))
    data = json.loads(json.dumps(faults.to_json()))
    assert [rule["fired"] for rule in data] == [1, 0]
    assert FaultRules.from_json(data) == faults.rules()
    assert FaultRules.from_json([{"rule": "eom:drop"}]) == [parse_rule("eom:drop")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": "eom:drop"}, "must be a JSON list"),
        (["eom:drop"], "fault rule 0: a fault rule must be a JSON object"),
        ([{"stage": "eom"}], "fault rule 0:"),
        ([{"stage": "eom", "action": "drop", "colour": "red"}], "unknown fault rule field"),
        ([{"stage": "rcpt", "action": "reply", "reply": 550}], "reply must be a string"),
        ([{"stage": "rcpt", "action": "delay", "delay_ms": "5"}], "delay must be"),
    ],
)
def test_bad_json_rules_are_refused(data: object, message: str) -> None:
    with pytest.raises(FaultError) as error:
        FaultRules.from_json(data)
    assert message in str(error.value)


# -- each stage, seen by a real client -------------------------------------------------------


def _send(sink: Sink, user: str | None = None, to: str = "user@example.com") -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        if user is not None:
            client.login(user, "pw")
        client.sendmail("app@example.com", [to], MESSAGE)


@pytest.mark.parametrize(
    ("rule", "error", "code"),
    [
        ("connect:554 5.3.2 Not accepting mail", smtplib.SMTPConnectError, 554),
        ("ehlo:550 Go away", smtplib.SMTPHeloError, 550),
        ("mail:from=app@*:451 4.3.0 Try again later", smtplib.SMTPSenderRefused, 451),
        ("rcpt:to=*@example.com:550 5.1.1 No such user", smtplib.SMTPRecipientsRefused, 550),
        ("data:452 4.3.1 Out of storage", smtplib.SMTPDataError, 452),
        ("eom:554 5.6.0 Message rejected", smtplib.SMTPDataError, 554),
    ],
)
def test_reply_fault_reaches_the_client_and_the_transcript(
    make_sink: MakeSink, rule: str, error: type[Exception], code: int
) -> None:
    sink = make_sink(faults=(rule,))
    with pytest.raises(error) as raised:
        _send(sink)
    assert str(code) in str(raised.value)
    lines = injected_lines(last_session(sink))  # smtplib retries a failed EHLO with HELO
    assert lines and all(line.startswith(str(code)) for line in lines)
    assert sink.messages() == []


def test_auth_fault_matches_the_user_name(make_sink: MakeSink) -> None:
    sink = make_sink()
    sink.faults.add("auth:user=locked*:535 5.7.8 Account locked")
    with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        _send(sink, user="locked-out")
    assert raised.value.smtp_code == statuscodes.AUTH_INVALID
    lines = injected_lines(last_session(sink))  # smtplib tries each mechanism offered
    assert lines and set(lines) == {"535 5.7.8 Account locked"}
    _send(sink, user="alice")  # another user is not affected
    assert sink.wait_for(count=1)[0].inbox == "alice"


def test_filter_on_recipient_refuses_only_matching_recipients(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("rcpt:to=*@bounce.test:550 5.1.1 No such user",))
    with smtplib.SMTP(sink.host, sink.port) as client:
        refused = client.sendmail("app@example.com", ["x@bounce.test", "y@ok.test"], MESSAGE)
    assert refused == {"x@bounce.test": (550, b"5.1.1 No such user")}
    assert sink.wait_for(count=1)[0].rcpt_to == ["y@ok.test"]


def test_eom_fault_leaves_the_message_unstored_and_the_session_usable(
    make_sink: MakeSink,
) -> None:
    sink = make_sink(faults=("eom:times=1:451 4.3.0 Try again",))
    with smtplib.SMTP(sink.host, sink.port) as client:
        with pytest.raises(smtplib.SMTPDataError):
            client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)  # retried: stored
    assert len(sink.wait_for(count=1)) == len(sink.messages()) == 1


def test_injected_421_closes_the_connection(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("rcpt:421 4.3.2 Shutting down",))
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        client.mail("app@example.com")
        assert client.rcpt("user@example.com")[0] == statuscodes.SERVICE_UNAVAILABLE
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


@pytest.mark.parametrize("stage", ["connect", "ehlo", "mail", "rcpt", "data", "eom"])
def test_drop_fault_closes_without_a_reply(make_sink: MakeSink, stage: str) -> None:
    sink = make_sink(faults=(f"{stage}:drop",))
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        _send(sink)
    session = last_session(sink)
    assert injected_lines(session) == ["<injected drop: connection closed without a reply>"]
    assert session.end_reason == "disconnect"
    assert sink.messages() == []


def test_drop_fault_at_auth_closes_without_a_reply(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("auth:user=bob:drop",))
    with pytest.raises(smtplib.SMTPServerDisconnected):
        _send(sink, user="bob")
    assert len(injected_lines(last_session(sink))) == 1


@pytest.mark.parametrize("stage", ["connect", "ehlo", "auth", "mail", "rcpt", "data", "eom"])
def test_delay_fault_slows_the_reply_then_goes_on(make_sink: MakeSink, stage: str) -> None:
    sink = make_sink(faults=(f"{stage}:delay=300",))
    started = time.monotonic()
    _send(sink, user="carol")
    assert time.monotonic() - started >= 0.3
    [message] = sink.wait_for(count=1)
    assert message.inbox == "carol"
    assert injected_lines(last_session(sink)) == ["<injected delay: 300 ms>"]


def test_times_limits_how_often_a_rule_fires(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("mail:times=2:451 4.3.0 Busy",))
    outcomes = []
    for _ in range(4):
        try:
            _send(sink)
            outcomes.append("sent")
        except smtplib.SMTPSenderRefused:
            outcomes.append("refused")
    assert outcomes == ["refused", "refused", "sent", "sent"]
    assert [rule["fired"] for rule in sink.faults.to_json()] == [2]


def _outcomes(make_sink: MakeSink, rule: str, count: int) -> list[bool]:
    sink = make_sink(faults=(rule,))
    results = []
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        for index in range(count):
            client.rset()
            client.mail("app@example.com")
            results.append(client.rcpt(f"u{index}@example.com")[0] == statuscodes.OK)
    return results


def test_probability_with_a_seed_repeats_the_same_choices(make_sink: MakeSink) -> None:
    rule = "rcpt:probability=0.5,seed=1234:450 4.2.0 Mailbox busy"
    first = _outcomes(make_sink, rule, 40)
    assert _outcomes(make_sink, rule, 40) == first
    assert 5 < first.count(False) < 35  # some refused, some accepted


def test_rules_change_while_the_server_runs(sink: Sink) -> None:
    sink.faults.add("rcpt:550 5.1.1 No such user")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(sink)
    sink.faults.replace([parse_rule("mail:451 4.3.0 Later")])
    with pytest.raises(smtplib.SMTPSenderRefused):
        _send(sink)
    sink.faults.clear()
    _send(sink)
    assert sink.wait_for(count=1)


def test_pipelining_client_sees_the_injected_recipient_failure(make_sink: MakeSink) -> None:
    sink = make_sink(faults=("rcpt:to=*@bounce.test:550 5.1.1 No such user",))

    async def send() -> None:
        async with aiosmtplib.SMTP(hostname=sink.host, port=sink.port) as client:
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
                await client.sendmail("app@example.com", ["x@bounce.test"], MESSAGE)

    asyncio.run(send())
    assert injected_lines(last_session(sink)) == ["550 5.1.1 No such user"]


def test_cli_applies_fault_rules(tmp_path: Path) -> None:
    rule = "rcpt:to=*@bounce.test:550 5.1.1 No such user"
    process = subprocess.Popen(
        [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off",
         "--db", ":memory:", "--fault", rule],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        host, _, port = process.stdout.readline().strip().removeprefix("smtp: ").rpartition(":")
        with smtplib.SMTP(host, int(port)) as client:
            client.ehlo()
            client.mail("app@example.com")
            assert client.rcpt("x@bounce.test") == (550, b"5.1.1 No such user")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.mark.parametrize(
    ("flags", "env"),
    [(["--fault", "rcpt:to=x"], ""), ([], "rcpt:550\nmail:bogus")],
)
def test_cli_refuses_a_bad_fault_rule(flags: list[str], env: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off",
         "--db", ":memory:", *flags],
        capture_output=True, text=True, timeout=30,
        env={"PATH": "/usr/bin:/bin", "MAILTRAP_LITE_FAULT": env},
    )  # fmt: skip
    assert result.returncode == 2
    assert "bad fault rule" in result.stderr and "Traceback" not in result.stderr

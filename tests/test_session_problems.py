"""What went wrong in a session: judged once, from the wire, stored with the session."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Callable

import pytest

from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import Store
from mailtrap_lite.store.problems import classify
from mailtrap_lite.store.records import NewMessage, Problem
from mailtrap_lite.testing import Sink
from tests.apiserver import Served
from tests.backends import Backend
from tests.sessions import ended_session
from tests.statuscodes import AUTH_INVALID, START_INPUT
from tests.wire import Wire, greet

pytestmark = pytest.mark.backends

AUTH_535 = "535 5.7.8 Authentication credentials invalid"


def server(line: str, injected: bool = False) -> tuple[str, str, bool]:
    return ("server", line, injected)


def client(line: str) -> tuple[str, str, bool]:
    return ("client", line, False)


CASES = [
    ([server("220 hi"), client("QUIT"), server("221 2.0.0 Bye")], "quit", []),
    (
        [client("AUTH PLAIN ****"), server(AUTH_535)],
        "quit",
        [Problem("auth-failed", f"AUTH failed: {AUTH_535}")],
    ),
    (
        [client("AUTH LOGIN"), server("334 VXNlcm5hbWU6"), client("****"),
         server("334 UGFzc3dvcmQ6"), client("****"), server("235 2.7.0 Authentication successful")],
        "quit",
        [],
    ),
    (
        [client("AUTH PLAIN ****"), server(AUTH_535), client("AUTH PLAIN ****"),
         server("235 2.7.0 Authentication successful")],
        "quit",
        [],
    ),
    (
        [client("RCPT TO:<x@example.com>"), server("550 5.1.1 No such user"),
         client("RCPT TO:<y@example.com>"), server("550 5.1.1 Gone too")],
        "quit",
        [Problem("permanent-failure", "2 permanent failure(s), first: 550 5.1.1 No such user")],
    ),
    (
        [client("MAIL FROM:<a@b>"), server("451 4.3.0 Try later", injected=True)],
        "quit",
        [Problem("temporary-failure", "1 temporary failure(s), first: 451 4.3.0 Try later"),
         Problem("injected-fault", "1 injected fault(s)")],
    ),
    ([server("220 hi")], "disconnect",
     [Problem("disconnected", "the client disconnected without QUIT")]),
    ([server("220 hi")], "timeout", [Problem("timed-out", "the session timed out")]),
    ([server("220 hi")], "limit",
     [Problem("connection-limit", "a server limit closed the session")]),
    ([server("220 hi")], "shutdown", []),
    ([server("220 hi")], None, []),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "end_reason", "expected"), CASES)
def test_a_transcript_is_judged_by_its_replies_and_its_ending(lines, end_reason, expected) -> None:
    assert classify(lines, end_reason) == expected


def test_failed_auth_names_the_user_tried_and_never_the_password(make_sink) -> None:
    sink: Sink = make_sink(credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("bob", "s3cret-tried")
    [problem] = ended_session(sink).problems
    assert problem.code == "auth-failed"
    assert problem.text == f'AUTH failed for user "bob": {AUTH_535}'
    assert "s3cret-tried" not in repr(sink.store.list_sessions())


def test_auth_login_failure_names_the_user_too(make_sink) -> None:
    sink: Sink = make_sink(credentials={"app": "right"})
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.user, smtp.password = "carol", "pw"
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)
    assert refused.value.smtp_code == AUTH_INVALID
    assert ended_session(sink).problems[0].text.startswith('AUTH failed for user "carol": 535')


def test_connection_dropped_during_data_says_how_much_arrived_and_nothing_was_stored(
    sink: Sink,
) -> None:
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("MAIL FROM:<a@example.com>").code == 250
        assert wire.cmd("RCPT TO:<b@example.com>").code == 250
        assert wire.cmd("DATA").code == START_INPUT
        wire.send(b"Subject: cut\r\n\r\n" + b"x" * 1234)
    session = ended_session(sink)
    assert session.end_reason == "disconnect"
    assert session.problems == [
        Problem(
            "data-incomplete",
            "the client disconnected during DATA: the message was incomplete"
            " (1,250 bytes had arrived) and nothing was stored",
        )
    ]
    assert session.transcript is not None
    assert session.transcript[-1].line == (
        "<message content cut off after 1250 octets: no end of data, nothing stored>"
    )
    assert sink.messages() == []


def test_session_timed_out_during_data_says_so(make_sink) -> None:
    sink: Sink = make_sink(idle_timeout=0.5)
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("MAIL FROM:<a@example.com>").code == 250
        assert wire.cmd("RCPT TO:<b@example.com>").code == 250
        assert wire.cmd("DATA").code == START_INPUT
        wire.send(b"Subject: slow\r\n\r\npart")
        assert wire.reply().code == 421
    [*_, cut] = ended_session(sink).problems
    assert cut.code == "data-incomplete"
    assert cut.text.startswith("the session timed out during DATA: the message was incomplete")
    assert "(21 bytes had arrived)" in cut.text


def test_problems_are_stored_when_the_session_ends_not_read_from_the_transcript(
    sink: Sink,
) -> None:
    with Wire(sink.host, sink.port) as wire:
        wire.reply()
        wire.cmd("EHLO client.test")
        assert wire.cmd("NOSUCHCOMMAND").code == 500
    ended_session(sink)
    with sqlite3.connect(sink.store.path) as conn:
        conn.execute("DELETE FROM transcript_chunks")
    [listed] = sink.store.list_sessions()
    assert listed.transcript is None
    assert [p.code for p in listed.problems] == ["permanent-failure", "disconnected"]


def test_problems_found_before_a_message_are_stored_with_it(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.docmd("NOSUCHCOMMAND")[0] == 500
        smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
        [open_session] = sink.store.list_sessions()
        assert open_session.end_reason is None
        assert [p.code for p in open_session.problems] == ["permanent-failure"]


def test_session_left_open_by_a_dead_server_is_judged_when_the_next_one_starts(
    backend: Backend,
) -> None:
    with backend.reopenable() as open_store:
        _judged_after_a_restart(open_store)


def _judged_after_a_restart(open_store: Callable[[], Store]) -> None:
    store = open_store()
    session_id = store.open_session("127.0.0.1:9", "2026-01-01T10:00:00.000Z")
    store.end_session(session_id, "quit", "2026-01-01T10:00:01.000Z")
    orphan = store.open_session("127.0.0.1:10", "2026-01-01T10:00:02.000Z")
    raw = b"Subject: x\r\n\r\nx\r\n"
    new = NewMessage(raw, "a@example.com", ["b@example.com"], orphan, "default",
                     "2026-01-01T10:00:03.000Z", parse_summary(raw))  # fmt: skip
    store.add_message(new, [(1.0, "client", "RCPT TO:<c@x>", False),
                            (1.0, "server", "550 5.1.1 No", False)])  # fmt: skip
    store.close()  # the server dies: the session never ends
    reopened = open_store()
    assert reopened.end_orphaned_sessions() == 1
    problems = reopened.get_session(orphan, transcript=False).problems  # type: ignore[union-attr]
    assert [p.code for p in problems] == ["permanent-failure", "disconnected"]
    reopened.close()


def test_session_json_has_its_problems(served: Served) -> None:
    with smtplib.SMTP(served.sink.host, served.sink.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.docmd("NOSUCHCOMMAND")[0] == 500
    ended_session(served.sink)
    [listed] = served.get("/api/v1/sessions").json()["sessions"]
    detail = served.get(f"/api/v1/sessions/{listed['id']}").json()
    expected = [{"code": "permanent-failure",
                 "text": '1 permanent failure(s), first: 500 5.5.1 Error: command'
                         ' "NOSUCHCOMMAND" not recognized'}]  # fmt: skip
    assert listed["problems"] == detail["problems"] == expected

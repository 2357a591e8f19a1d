"""Limits: recipients, message size, connections, idle time and command line length."""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import time
from collections.abc import Callable

import pytest

from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessionwait import ended_sessions, last_session

MESSAGE = b"Subject: limits\r\n\r\nbody\r\n"
MakeSink = Callable[..., Sink]


def assert_healthy(sink: Sink) -> None:
    """A fresh client still gets its message through."""
    before = len(sink.messages())
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    sink.wait_for(count=before + 1)


def test_recipient_past_the_limit_gets_452(make_sink: MakeSink) -> None:
    sink = make_sink(max_recipients=2)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        client.mail("app@example.com")
        for name in ("one", "two"):
            assert client.rcpt(f"{name}@example.com")[0] == statuscodes.OK
        code, text = client.rcpt("three@example.com")
        assert (code, text.split()[0].decode()) == (
            statuscodes.INSUFFICIENT_STORAGE,
            statuscodes.TOO_MANY_RECIPIENTS,
        )
        assert client.data(MESSAGE)[0] == statuscodes.OK
    [message] = sink.wait_for(count=1)
    assert message.rcpt_to == ["one@example.com", "two@example.com"]
    assert_healthy(sink)


def test_message_over_the_size_limit_gets_552(make_sink: MakeSink) -> None:
    sink = make_sink(max_message_size=1000)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        client.mail("app@example.com")
        client.rcpt("user@example.com")
        code, _ = client.data(MESSAGE + b"x" * 2000 + b"\r\n")
        assert code == statuscodes.EXCEEDED_STORAGE
    assert sink.messages() == []
    assert_healthy(sink)


def test_connection_over_the_limit_gets_421_and_is_recorded(make_sink: MakeSink) -> None:
    sink = make_sink(max_connections=2)
    held = [smtplib.SMTP(sink.host, sink.port) for _ in range(2)]
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP(sink.host, sink.port)
    assert refused.value.smtp_code == statuscodes.SERVICE_UNAVAILABLE
    assert refused.value.smtp_error.split()[0].decode() == statuscodes.TOO_MANY_CONNECTIONS
    [session] = ended_sessions(sink, where=lambda s: s.end_reason == "limit")
    held[0].quit()
    ended_sessions(sink, where=lambda s: s.end_reason == "quit")  # its place is free now
    assert_healthy(sink)  # and given to a new client
    held[1].quit()
    assert session.end_reason == "limit"


def test_idle_session_gets_421_and_is_recorded_as_timeout(make_sink: MakeSink) -> None:
    sink = make_sink(idle_timeout=0.3)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        code, text = client.getreply()  # nothing sent: the server speaks first, then closes
        assert (code, text.split()[0].decode()) == (
            statuscodes.SERVICE_UNAVAILABLE,
            statuscodes.IDLE_TIMEOUT,
        )
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    session = last_session(sink)
    assert session.end_reason == "timeout"
    assert session.transcript is not None and session.transcript[-1].line.startswith("421")
    assert_healthy(sink)


@pytest.mark.parametrize("length", [600, 5000])
def test_overlong_command_line_gets_500_and_the_session_goes_on(sink: Sink, length: int) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        code, text = client.docmd("NOOP", "x" * length)
        assert (code, text.split()[0].decode()) == (
            statuscodes.SYNTAX_ERROR,
            statuscodes.LINE_TOO_LONG,
        )
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    assert sink.wait_for(count=1)


def test_longer_command_lines_are_accepted_when_configured(make_sink: MakeSink) -> None:
    sink = make_sink(max_command_length=4096)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        assert client.docmd("NOOP", "x" * 3000)[0] == statuscodes.OK
        assert client.docmd("NOOP", "x" * 5000)[0] == statuscodes.SYNTAX_ERROR


class Storm:
    """Many raw SMTP clients at once; accepted ones stay active until every one is greeted.

    Sending NOOP until then keeps an early accepted session from timing out and freeing its
    place while a slow machine is still opening the others; then they all fall idle.
    """

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.greeted = 0
        self.everyone_greeted = asyncio.Event()

    async def run(self) -> list[tuple[bytes, list[bytes]]]:
        """Return each client's greeting and the lines that followed until the close."""
        return await asyncio.gather(*(self._client() for _ in range(self.count)))

    async def _client(self) -> tuple[bytes, list[bytes]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        greeting = await asyncio.wait_for(reader.readline(), 10)
        self.greeted += 1
        if self.greeted == self.count:
            self.everyone_greeted.set()
        while greeting.startswith(b"220") and not self.everyone_greeted.is_set():
            writer.write(b"NOOP\r\n")
            await asyncio.wait_for(reader.readline(), 10)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.everyone_greeted.wait(), 0.1)
        after = []
        while line := await asyncio.wait_for(reader.readline(), 10):
            after.append(line)
        writer.close()
        return greeting, after


def test_connection_storm_is_limited_and_idle_sessions_time_out(make_sink: MakeSink) -> None:
    sink = make_sink(max_connections=100, idle_timeout=2.0)
    started = time.monotonic()
    results = asyncio.run(Storm(sink.port, 300).run())
    elapsed = time.monotonic() - started
    refused = [after for greeting, after in results if greeting.startswith(b"421 4.7.0")]
    accepted = [after for greeting, after in results if greeting.startswith(b"220 ")]
    assert (len(refused), len(accepted)) == (200, 100)
    assert all(after == [] for after in refused)  # closed right after the 421
    assert all(len(after) == 1 and after[0].startswith(b"421 4.4.2") for after in accepted)
    sessions = ended_sessions(sink, count=300)
    reasons = [s.end_reason for s in sessions]
    assert (reasons.count("limit"), reasons.count("timeout")) == (200, 100)
    assert elapsed < 30
    assert_healthy(sink)

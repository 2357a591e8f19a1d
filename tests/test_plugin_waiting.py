"""Waiting for mail: from threads, subprocesses and coroutines, with counts and timeouts."""

from __future__ import annotations

import asyncio
import os
import smtplib
import subprocess
import sys
import threading
import time

import aiosmtplib
import pytest

from mailtrap_lite.testing.view import SinkView

SENDER_SCRIPT = """
import os, smtplib
with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])) as client:
    client.sendmail("worker@example.com", ["user@example.com"],
                    b"Subject: from a subprocess\\r\\n\\r\\nhi\\r\\n")
"""


def send(sink: SinkView, subject: str, to: str = "user@example.com") -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("app@example.com", [to], f"Subject: {subject}\r\n\r\nbody\r\n".encode())


def send_later(sink: SinkView, delay: float, subject: str) -> threading.Timer:
    timer = threading.Timer(delay, send, (sink, subject))
    timer.start()
    return timer


def test_wait_for_returns_mail_sent_from_a_thread_after_a_delay(smtp_sink: SinkView) -> None:
    started = time.monotonic()
    send_later(smtp_sink, 0.3, "late")
    message = smtp_sink.wait_for(subject="late")
    assert message.subject == "late"
    assert time.monotonic() - started >= 0.3


def test_wait_for_sees_mail_from_a_subprocess(
    smtp_sink: SinkView, smtp_sink_env: dict[str, str]
) -> None:
    env = {**os.environ, **smtp_sink_env}
    subprocess.run([sys.executable, "-c", SENDER_SCRIPT], env=env, check=True, timeout=60)
    assert smtp_sink.wait_for(from_="worker@example.com").subject == "from a subprocess"


def test_smtp_sink_env_names_the_sink(smtp_sink: SinkView, smtp_sink_env: dict[str, str]) -> None:
    assert smtp_sink_env == {"SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port)}


def test_wait_for_with_count_returns_the_first_ones_oldest_first(smtp_sink: SinkView) -> None:
    for subject in ("one", "two", "three"):
        send(smtp_sink, subject)
    assert [m.subject for m in smtp_sink.wait_for(2)] == ["one", "two"]


def test_wait_for_timeout_lists_what_did_arrive(smtp_sink: SinkView) -> None:
    send(smtp_sink, "Password reset", to="alice@example.com")
    with pytest.raises(AssertionError) as failure:
        smtp_sink.wait_for(to="bob@example.com", timeout=0.2)
    text = str(failure.value)
    assert text.startswith("expected 1 message matching to='bob@example.com' within 0.2 s")
    assert "'Password reset'" in text and "alice@example.com" in text
    assert "closest candidates:" in text


def test_wait_for_timeout_says_when_nothing_arrived(smtp_sink: SinkView) -> None:
    with pytest.raises(AssertionError, match="no message arrived during this test"):
        smtp_sink.wait_for(timeout=0.05)


@pytest.mark.smtp_sink(timeout=0.1)
def test_marker_timeout_sets_the_default_wait(smtp_sink: SinkView) -> None:
    with pytest.raises(AssertionError, match="within 0.1 s"):
        smtp_sink.wait_for()


def test_assert_not_sent_within_catches_mail_arriving_later(smtp_sink: SinkView) -> None:
    send_later(smtp_sink, 0.2, "oops")
    started = time.monotonic()
    with pytest.raises(AssertionError, match="within 5 s, found 1"):
        smtp_sink.assert_not_sent(within=5, subject="oops")
    assert time.monotonic() - started < 4  # it fails as soon as the mail is here


def test_clear_forgets_earlier_mail(smtp_sink: SinkView) -> None:
    send(smtp_sink, "before")
    smtp_sink.clear()
    assert smtp_sink.messages == []
    send(smtp_sink, "after")
    assert [m.subject for m in smtp_sink.messages] == ["after"]


async def send_async(sink: SinkView, delay: float, subject: str) -> None:
    await asyncio.sleep(delay)
    await aiosmtplib.send(
        f"Subject: {subject}\r\n\r\nbody\r\n",
        sender="app@example.com",
        recipients=["user@example.com"],
        hostname=sink.host,
        port=sink.port,
    )


def test_wait_for_async_lets_a_sender_on_the_same_loop_run(smtp_sink: SinkView) -> None:
    async def scenario() -> str:
        sending = asyncio.create_task(send_async(smtp_sink, 0.1, "async"))
        message = await smtp_sink.wait_for_async(subject="async", timeout=5)
        await sending
        return message.subject

    assert asyncio.run(scenario()) == "async"


def test_wait_for_async_times_out_listing_what_arrived(smtp_sink: SinkView) -> None:
    send(smtp_sink, "unrelated")
    with pytest.raises(AssertionError, match="'unrelated'"):
        asyncio.run(smtp_sink.wait_for_async(subject="wanted", timeout=0.1))


def test_assert_not_sent_async_catches_mail_from_the_same_loop(smtp_sink: SinkView) -> None:
    async def scenario() -> None:
        sending = asyncio.create_task(send_async(smtp_sink, 0.1, "leak"))
        try:
            await smtp_sink.assert_not_sent_async(within=5, subject="leak")
        finally:
            await sending

    with pytest.raises(AssertionError, match="'leak'"):
        asyncio.run(scenario())

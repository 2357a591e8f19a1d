"""SpamAssassin's score through a real spamd on 127.0.0.1 (Debian's spamassassin package).

spamd runs with -L (local tests only: no DNS blocklists, no traffic off this machine) and -x
(no per-user configuration). Scores depend on the installed rules, so the tests assert only
that GTUBE, SpamAssassin's test pattern, scores at or above the threshold.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.checks import Checker
from mailtrap_lite.checks.spam import MAX_BYTES
from mailtrap_lite.config import Address
from tests.apiserver import send_mail
from tests.checkmail import clean_message, crlf, found, status

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPAMD = shutil.which("spamd") or ("/usr/sbin/spamd" if Path("/usr/sbin/spamd").exists() else None)
START_TIMEOUT = 120.0  # spamd compiles its rules at start: seconds, more on a busy machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pong(port: int) -> bool:
    """Ask spamd PING over SPAMC; True once it answers PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING SPAMC/1.5\r\n\r\n")
            return b"PONG" in sock.recv(100)
    except OSError:
        return False


@pytest.fixture(scope="module")
def spamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Address]:
    """Start spamd on a free loopback port, wait (bounded) until it answers, stop it after."""
    if SPAMD is None:
        pytest.skip("spamd is not installed (Debian: spamassassin and spamd; scripts/test installs"
                    " them when run as root)")  # fmt: skip
    port = _free_port()
    log = tmp_path_factory.mktemp("spamd") / "spamd.log"
    command = [SPAMD, "-L", "-x", "--listen", f"127.0.0.1:{port}", "--max-children", "1",
               "-s", "stderr"]  # fmt: skip
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # spamd refuses to keep running as root
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _pong(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spamd did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Address("127.0.0.1", port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    port = _free_port()  # nothing listens there
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
    port = _free_port()  # a spamd that is not there would fail the check if it were asked
    big = crlf(clean_message()) + b"x" * MAX_BYTES
    [result] = found(Checker(spamd=Address("127.0.0.1", port)).check_file(big), "spam.score")
    assert result.startswith("info: Not scored: too large for SpamAssassin")

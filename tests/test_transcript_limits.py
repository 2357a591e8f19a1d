"""Transcripts are bounded: a cap per session, written in chunks, paged on the session page."""

from __future__ import annotations

import re
from collections.abc import Callable

from mailtrap_lite.smtp.transcript import FLUSH_LINES
from mailtrap_lite.testing import Sink
from tests.apiserver import Served, make_message, until
from tests.sessions import ended_session
from tests.wire import greet

MakeSink = Callable[..., Sink]
MakeServed = Callable[..., Served]
ARGUMENT = "n" * 490


def noops(wire: object, count: int) -> None:
    """Pipeline `count` NOOPs and read every reply."""
    wire.send(f"NOOP {ARGUMENT}\r\n".encode() * count)  # type: ignore[attr-defined]
    for _ in range(count):
        assert wire.reply().code == 250  # type: ignore[attr-defined]


def test_past_the_cap_lines_are_counted_not_kept_and_the_session_goes_on(
    make_sink: MakeSink,
) -> None:
    sink = make_sink(max_transcript_lines=100)
    with greet(sink.host, sink.port) as wire:
        noops(wire, 300)
        for command in ("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"):
            wire.cmd(command)
        assert wire.cmd(b"Subject: after the cap\r\n\r\nbody\r\n.").code == 250
        wire.cmd("QUIT")
    [message] = sink.wait_for(count=1)
    assert message.subject == "after the cap"
    lines = [entry.line for entry in ended_session(sink).transcript or []]
    assert len(lines) == 100 + 2  # the kept ones, the note where the cap was hit, the count
    assert lines[100] == "<transcript limit reached (100 lines, 4194304 bytes): later lines are counted, not kept>"  # fmt: skip  # noqa: E501
    dropped = int(re.fullmatch(r"<(\d+) further line\(s\) not kept: .*>", lines[-1]).group(1))
    assert dropped > 2 * 300 - 100  # the NOOPs and their replies past the first 100 lines


def test_the_byte_cap_bounds_long_lines_too(make_sink: MakeSink) -> None:
    sink = make_sink(max_transcript_bytes=50_000)
    with greet(sink.host, sink.port) as wire:
        noops(wire, 300)
        wire.cmd("QUIT")
    kept = ended_session(sink).transcript or []
    assert sum(len(entry.line) for entry in kept) < 50_000 + 1000
    assert kept[-1].line.endswith("not kept: the transcript limit was reached>")


def test_a_long_session_is_written_in_chunks_while_it_runs(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        session_id = max(s.id for s in sink.store.list_sessions())
        noops(wire, FLUSH_LINES)
        open_session = until(lambda: sink.store.get_session(session_id))
        assert open_session.ended_at is None
        assert len(open_session.transcript or []) >= FLUSH_LINES  # stored before the QUIT


def test_the_session_page_shows_a_long_transcript_a_page_at_a_time(served: Served) -> None:
    with greet(served.sink.host, served.sink.port) as wire:
        noops(wire, 1200)
        wire.cmd("QUIT")
    session = ended_session(served.sink)
    total = len(session.transcript or [])
    first = served.get(f"/sessions/{session.id}")
    assert first.status == 200
    assert first.body.count(b'<tr class="client') + first.body.count(b'<tr class="server') == 1000
    assert f"Lines 1–1000 of {total}".encode() in first.body
    second = served.get(f"/sessions/{session.id}", page=3)
    assert f"Lines 2001–{total} of {total}".encode() in second.body
    assert served.get(f"/sessions/{session.id}", page=4).status == 404


def test_the_message_page_shows_the_start_of_a_long_transcript(served: Served) -> None:
    with greet(served.sink.host, served.sink.port) as wire:
        noops(wire, 600)
        for command in ("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"):
            wire.cmd(command)
        wire.send(make_message("long session").as_bytes().replace(b"\n", b"\r\n"))
        assert wire.cmd(".").code == 250
    [summary] = until(lambda: served.get("/api/v1/messages").json()["messages"])
    page = served.get(f"/messages/{summary['id']}").body
    assert b"The first 1000 of 12" in page  # of 12xx lines, on the session's page


def test_lines_past_the_cap_are_still_judged_for_problems(make_sink: MakeSink) -> None:
    sink = make_sink(max_transcript_lines=20)
    with greet(sink.host, sink.port) as wire:
        noops(wire, 30)
        assert wire.cmd("BOGUS").code == 500  # past the cap: not kept, but judged
        assert wire.cmd("MAIL FROM:<a@example.com>").code == 250
        assert wire.cmd("MAIL FROM:<b@example.com>").code == 503
    session = ended_session(sink)  # the client disconnected without QUIT
    assert all("BOGUS" not in entry.line for entry in session.transcript or [])
    codes = {problem.code: problem.text for problem in session.problems}
    assert set(codes) == {"permanent-failure", "disconnected"}
    assert codes["permanent-failure"].startswith("2 permanent failure(s), first: 500")


def test_a_long_session_stores_its_problems_with_each_chunk(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        session_id = max(s.id for s in sink.store.list_sessions())
        assert wire.cmd("BOGUS").code == 500
        noops(wire, FLUSH_LINES)
        open_session = until(lambda: sink.store.get_session(session_id, transcript=False))
        assert open_session.ended_at is None
        assert [problem.code for problem in open_session.problems] == ["permanent-failure"]

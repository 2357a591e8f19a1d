"""Fuzzing SMTP over a real socket: any byte sequence gets answers or a clean close, never a hang.

Three generators: random command lines, valid conversations with mutations (pipelining, bare
LF, NULs, huge arguments, garbage AUTH, `*` cancels, DATA without its terminator, RSET/NOOP
in between, non-ASCII bytes), and random message content. After each conversation a probe
ends any DATA or AUTH in progress and says QUIT; the server must close within READ_TIMEOUT.
After all examples a plain smtplib client still gets mail through and the Store is sound.
Profiles (tests/conftest.py): "ci" runs a fixed, bounded set; "long" runs thousands.
"""

from __future__ import annotations

import base64
import re
import smtplib
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from mailtrap_lite.testing import Sink
from tests import statuscodes
from tests.sessions import ended_session
from tests.wire import greet

READ_TIMEOUT = 10.0
# Ends DATA ("\r\n.\r\n" after any partial line), cancels an AUTH exchange ("*"), then QUITs.
PROBE = b"\r\n.\r\n*\r\nQUIT\r\n"
REPLY_LINE = re.compile(rb"^[2-5]\d\d([ -].*)?$", re.DOTALL)
QUEUED = re.compile(rb"queued as (\d+)")
INTERNAL_ERROR = b"error in processing"  # CaptureHandler.handle_exception: an unexpected crash


@dataclass
class Outcome:
    """What came back from one conversation."""

    lines: list[bytes]
    closed: bool
    reset: bool  # closed with our data unread: replies still in flight may be lost (TCP RST)

    def acknowledged(self) -> list[int]:
        """Return the ids of the messages the server acknowledged with 250."""
        return [int(m.group(1)) for line in self.lines if (m := QUEUED.search(line))]


def converse(sink: Sink, chunks: list[bytes]) -> Outcome:
    """Send each chunk, then the probe; read concurrently until the server closes."""
    sock = socket.create_connection((sink.host, sink.port), timeout=READ_TIMEOUT)
    received = bytearray()
    eof, reset = threading.Event(), threading.Event()

    def pump() -> None:
        try:
            while chunk := sock.recv(65536):
                received.extend(chunk)
            eof.set()
        except ConnectionResetError:
            reset.set()  # closed while our data was still unread: a close all the same
            eof.set()
        except OSError:
            return  # timed out: eof stays unset

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        for chunk in [*chunks, PROBE]:
            sock.sendall(chunk)
    except OSError:
        pass  # the server may close first (QUIT, 421): what it answered is checked below
    reader.join(READ_TIMEOUT + 1)
    sock.close()
    whole = bytes(received)
    complete = whole[: whole.rfind(b"\r\n") + 2]  # a reset may cut the last line short
    lines = [line for line in complete.split(b"\r\n") if line]
    return Outcome(lines, eof.is_set(), reset.is_set())


def check_outcome(sink: Sink, outcome: Outcome) -> None:
    """Every reply is well formed, none reports a crash, and the server still serves."""
    assert outcome.closed, f"no close within {READ_TIMEOUT} s; got {outcome.lines[-5:]}"
    if not outcome.reset:
        assert outcome.lines and outcome.lines[0].startswith(b"220"), outcome.lines[:3]
    bad = [line for line in outcome.lines if not REPLY_LINE.match(line)]
    assert bad == []
    assert not [line for line in outcome.lines if INTERNAL_ERROR in line]
    with greet(sink.host, sink.port) as wire:
        assert wire.cmd("NOOP").code == statuscodes.OK


def check_store_sound(sink: Sink, acknowledged: list[int]) -> None:
    """smtplib still delivers; every acknowledged message is stored; every session ended."""
    assert sink.store is not None
    body = b"Subject: after the fuzz\r\n\r\nstill here\r\n"
    with smtplib.SMTP(sink.host, sink.port, timeout=READ_TIMEOUT) as client:
        client.sendmail("a@example.com", ["b@example.com"], body)
    [last] = [m for m in sink.messages() if m.subject == "after the fuzz"]
    assert sink.store.raw(last.id) == body
    for message_id in acknowledged:
        record, raw = sink.store.get_message(message_id), sink.store.raw(message_id)
        assert record is not None and raw is not None and record.size == len(raw)
    _wait_all_sessions_ended(sink)
    check = sqlite3.connect(sink.store.path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def _wait_all_sessions_ended(sink: Sink, timeout: float = 10.0) -> None:
    assert sink.store is not None
    deadline = time.monotonic() + timeout
    while open_ := [s.id for s in sink.store.list_sessions(limit=100_000) if s.ended_at is None]:
        assert time.monotonic() < deadline, f"sessions never ended: {open_[:10]}"
        time.sleep(0.05)


# -- generators ------------------------------------------------------------------------------

VERBS = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "EXPN", "HELP",
         "AUTH", "STARTTLS", "QUIT", "BDAT", "XCLIENT", "*", ".", "", "mail", "ehlo"]  # fmt: skip
ENDINGS = [b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"", b"\r\r\n", b"\x00\r\n"]
ADDRESSES = st.sampled_from(
    ["FROM:<a@example.com>", "TO:<b@example.com>", "FROM:<>", "TO:<postmaster>", "FROM:a@b",
     "TO:<b@example.com> NOTIFY=NEVER", "FROM:<a@example.com> SIZE=99999999999",
     "FROM:<a@example.com> BODY=8BITMIME SMTPUTF8", "TO:<ü@exämple.com>", "FROM:<<>>",
     "PLAIN", "LOGIN", "CRAM-MD5", "PLAIN =", "LOGIN Zm9v"]
)  # fmt: skip
HUGE = st.integers(600, 100_000).map(lambda n: b"A" * n)
ARGUMENTS = st.one_of(
    st.just(b""),
    ADDRESSES.map(str.encode),
    st.text(max_size=40).map(lambda t: t.encode("utf-8")),
    st.binary(max_size=40),
    HUGE,
)


@st.composite
def command_lines(draw: st.DrawFn) -> bytes:
    """Return one command line: a verb, maybe an argument, some line ending."""
    verb = draw(st.sampled_from(VERBS)).encode()
    argument = draw(ARGUMENTS)
    return verb + (b" " + argument if argument else b"") + draw(st.sampled_from(ENDINGS))


def valid_conversation(with_auth: bool, recipients: int, content: bytes) -> list[bytes]:
    """Return the chunks of a correct session that sends one message (the probe QUITs)."""
    chunks = [b"EHLO fuzz.example\r\n"]
    if with_auth:
        chunks.append(b"AUTH PLAIN " + base64.b64encode(b"\0inbox\0secret") + b"\r\n")
    chunks.append(b"MAIL FROM:<a@example.com>\r\n")
    chunks += [b"RCPT TO:<r%d@example.com>\r\n" % n for n in range(recipients)]
    return [*chunks, b"DATA\r\n", stuffed(content) + b".\r\n"]


def stuffed(content: bytes) -> bytes:
    """Dot-stuff content and make it end with CRLF (RFC 5321 §4.5.2)."""
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return re.sub(rb"(?:^|(?<=\r\n))\.", b"..", content)


INSERTS = [b"RSET\r\n", b"NOOP\r\n", b"AUTH LOGIN\r\n*\r\n", b"AUTH PLAIN @@not-base64@@\r\n",
           b"AUTH LOGIN\r\n!!garbage!!\r\n", b"AUTH PLAIN\r\n%%%\r\n", b"\x00\x00\r\n",
           b"\xff\xfe\xfd\r\n", b"NOOP \xc3\xa9t\xc3\xa9\r\n", b"DATA\r\n"]  # fmt: skip


@st.composite
def mutated_conversations(draw: st.DrawFn) -> list[bytes]:
    """Return a valid conversation with a few mutations applied."""
    content = draw(st.binary(max_size=300)) + b"\r\n"
    chunks = valid_conversation(draw(st.booleans()), draw(st.integers(1, 3)), content)
    for _ in range(draw(st.integers(1, 4))):
        chunks = draw(mutation(chunks))
    return chunks


def mutation(chunks: list[bytes]) -> st.SearchStrategy[list[bytes]]:
    """Return a strategy for one mutation of the chunks."""
    if not chunks:
        return st.just([b"NOOP\r\n"])
    at = st.integers(0, len(chunks) - 1)
    return st.one_of(
        st.just([b"".join(chunks)]),  # pipelining: everything in one write
        at.map(lambda i: _edit(chunks, i, chunks[i].replace(b"\r\n", b"\n"))),  # bare LF
        st.tuples(at, st.sampled_from(INSERTS)).map(lambda x: _insert(chunks, *x)),
        st.tuples(at, HUGE).map(lambda x: _edit(chunks, x[0], chunks[x[0]][:-2] + x[1] + b"\r\n")),
        st.tuples(at, st.binary(min_size=1, max_size=8)).map(
            lambda x: _edit(chunks, x[0], x[1] + chunks[x[0]])
        ),
        at.map(lambda i: chunks[:i] + chunks[i + 1 :]),  # drop one (say, the terminator)
        at.map(lambda i: chunks[: i + 1] + chunks[i:]),  # repeat one
        st.tuples(at, st.integers(0, 50)).map(lambda x: _split(chunks, *x)),
    )


def _edit(chunks: list[bytes], index: int, new: bytes) -> list[bytes]:
    return [*chunks[:index], new, *chunks[index + 1 :]]


def _insert(chunks: list[bytes], index: int, new: bytes) -> list[bytes]:
    return [*chunks[:index], new, *chunks[index:]]


def _split(chunks: list[bytes], index: int, cut: int) -> list[bytes]:
    chunk = chunks[index]
    return [*chunks[:index], chunk[:cut], chunk[cut:], *chunks[index + 1 :]]


# -- the properties --------------------------------------------------------------------------


def test_random_command_sequences_get_answers_or_a_clean_close(sink: Sink) -> None:
    acknowledged: list[int] = []

    @given(st.lists(command_lines(), max_size=12))
    def run(lines: list[bytes]) -> None:
        outcome = converse(sink, lines)
        check_outcome(sink, outcome)
        acknowledged.extend(outcome.acknowledged())

    run()
    check_store_sound(sink, acknowledged)


def test_mutated_conversations_get_answers_or_a_clean_close(sink: Sink) -> None:
    acknowledged: list[int] = []

    @given(mutated_conversations())
    def run(chunks: list[bytes]) -> None:
        outcome = converse(sink, chunks)
        check_outcome(sink, outcome)
        acknowledged.extend(outcome.acknowledged())

    run()
    assert acknowledged  # the mutations leave many conversations valid
    check_store_sound(sink, acknowledged)


CONTENT = st.one_of(
    st.binary(max_size=2000),
    st.lists(
        st.sampled_from([b".", b"..", b".\r\n", b"\r\n", b"\n", b"\r", b"\x00", b"\xff",
                         b"\n.\n", b"\r\n.\n", b"x" * 1500, "é".encode(), b"Subject: s"]),
        max_size=30,
    ).map(b"".join),
)  # fmt: skip


def test_any_content_is_stored_byte_for_byte_even_pipelined(sink: Sink) -> None:
    @given(CONTENT, st.booleans())
    def run(content: bytes, pipelined: bool) -> None:
        chunks = valid_conversation(False, 1, content)
        outcome = converse(sink, [b"".join(chunks)] if pipelined else chunks)
        check_outcome(sink, outcome)
        [message_id] = outcome.acknowledged()
        assert sink.store is not None
        expected = content if content.endswith(b"\r\n") else content + b"\r\n"
        assert sink.store.raw(message_id) == expected

    run()


SECRETS = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=8, max_size=40)


def test_auth_secrets_never_reach_the_transcript(sink: Sink) -> None:
    @given(SECRETS, st.sampled_from(["plain-initial", "plain", "login"]))
    def run(secret: str, how: str) -> None:
        password = ("pw-" + secret).encode()
        token = base64.b64encode(b"\0user\0" + password)
        steps = {
            "plain-initial": [b"AUTH PLAIN " + token + b"\r\n"],
            "plain": [b"AUTH PLAIN\r\n", token + b"\r\n"],
            "login": [b"AUTH LOGIN\r\n", base64.b64encode(b"user") + b"\r\n",
                      base64.b64encode(password) + b"\r\n"],
        }[how]  # fmt: skip
        outcome = converse(sink, [b"EHLO fuzz.example\r\n", *steps])
        session = ended_session(sink)  # the newest: read it before check_outcome opens another
        check_outcome(sink, outcome)
        assert any(line.startswith(b"235") for line in outcome.lines)
        shown = "\n".join(entry.line for entry in session.transcript)
        assert "pw-" + secret not in shown
        assert token.decode() not in shown and base64.b64encode(password).decode() not in shown

    run()

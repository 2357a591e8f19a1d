"""Fuzzing MIME: random and mutated messages through parsing, indexing and the Store.

No input may raise out of the parsing functions (a view of the message would fail), indexing
must give a result, and the Store must give back exactly the bytes it was given.
Profiles (tests/conftest.py): "ci" runs a fixed, bounded set; "long" runs thousands.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import quopri
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtrap_lite.message import SNIPPET_LENGTH, read_message
from mailtrap_lite.mime.headers import decoded_headers, parse_summary
from mailtrap_lite.mime.htmltext import html_to_text
from mailtrap_lite.smtp.conformance import check_message
from mailtrap_lite.store import Store
from mailtrap_lite.store.indexer import index_one
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.web import shapes

CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "utf-16", "iso-2022-jp", "x-no-such-charset",
            "", "utf-8\"; x=\"", "windows-1252"]  # fmt: skip
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "x-garbage"]
LEAF_TYPES = ["text/plain", "text/html", "application/pdf", "image/png",
              "message/delivery-status", "text/x-unknown", "garbage"]  # fmt: skip
TEXT = st.text(max_size=120)
TOKENS = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
                 min_size=1, max_size=20)  # fmt: skip


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """Return an RFC 2047 encoded word, well formed or not."""
    charset = draw(st.sampled_from(CHARSETS))
    kind = draw(st.sampled_from(["B", "Q", "b", "X"]))
    payload = draw(st.one_of(TEXT.map(lambda t: base64.b64encode(t.encode()).decode()), TOKENS))
    return f"=?{charset}?{kind}?{payload}?="


HEADER_VALUES = st.one_of(
    TEXT,
    encoded_words(),
    st.lists(st.one_of(TEXT, encoded_words()), max_size=4).map(" ".join),
    st.sampled_from(["<a@example.com>", "\"Quoted, Name\" <q@example.com>, b@example.com",
                     "undisclosed-recipients:;", "<<>>", "a@", "Thu, 26 Nov 2026 09:00:00 +0000",
                     "Mon, 99 Foo 20269 99:99:99 +9999", "(comment) <c@example.com> (x)"]),
)  # fmt: skip
HEADER_NAMES = st.one_of(
    st.sampled_from(["From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID",
                     "Content-Type", "X-Custom", "subject", "FROM"]),
    TOKENS,
)  # fmt: skip


def header_lines(pairs: list[tuple[str, str]], fold: bool) -> bytes:
    """Render headers, folding long values when asked."""
    lines = []
    for name, value in pairs:
        text = f"{name}: {value}"
        if fold and len(text) > 40:
            text = text[:40] + "\r\n " + text[40:]
        lines.append(text.encode("utf-8", "surrogatepass"))
    return b"".join(line + b"\r\n" for line in lines)


def encode_body(data: bytes, encoding: str) -> bytes:
    """Encode a body with a transfer encoding (unknown ones are left as they are)."""
    if encoding == "base64":
        return base64.encodebytes(data).replace(b"\n", b"\r\n")
    if encoding == "quoted-printable":
        return quopri.encodestring(data).replace(b"\n", b"\r\n")
    return data


@st.composite
def leaf_parts(draw: st.DrawFn) -> bytes:
    """Return a text, HTML or attachment part, its body possibly not matching its headers."""
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    headers = [("Content-Type", f'{ctype}; charset="{charset}"'),
               ("Content-Transfer-Encoding", encoding)]  # fmt: skip
    if draw(st.booleans()):
        name = draw(st.one_of(TEXT, encoded_words()))
        disposition = draw(st.sampled_from(["attachment", "inline", "bogus"]))
        headers.append(("Content-Disposition", f'{disposition}; filename="{name}"'))
    if draw(st.booleans()):
        headers.append(("Content-ID", f"<{draw(TOKENS)}>"))
    data = draw(
        st.one_of(TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=200))
    )
    return header_lines(headers, draw(st.booleans())) + b"\r\n" + encode_body(data, encoding)


def parts(depth: int) -> st.SearchStrategy[bytes]:
    """Return a strategy for a MIME part at most `depth` levels deep."""
    if depth == 0:
        return leaf_parts()
    return st.one_of(leaf_parts(), multiparts(depth), embedded_messages(depth))


@st.composite
def multiparts(draw: st.DrawFn, depth: int) -> bytes:
    """Return a multipart with children; the boundary may be odd or the end missing."""
    boundary = draw(st.one_of(TOKENS, st.just("")))
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "digest", "x-weird"]))
    children = draw(st.lists(parts(depth - 1), max_size=4))
    head = header_lines([("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')], False)
    delimiter = b"\r\n--" + boundary.encode() + b"\r\n"
    closing = b"\r\n--" + boundary.encode() + b"--\r\n" if draw(st.booleans()) else b""
    preamble = draw(st.sampled_from([b"", b"This is a multi-part message.\r\n"]))
    return head + b"\r\n" + preamble + b"".join(delimiter + c for c in children) + closing


@st.composite
def embedded_messages(draw: st.DrawFn, depth: int) -> bytes:
    """Return a message/rfc822 part holding a whole message."""
    inner = draw(messages(depth - 1))
    return header_lines([("Content-Type", "message/rfc822")], False) + b"\r\n" + inner


@st.composite
def messages(draw: st.DrawFn, depth: int = 3) -> bytes:
    """Return a message: random headers, then a part tree."""
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8))
    return header_lines(headers, draw(st.booleans())) + draw(parts(depth))


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    """Apply one byte-level mutation: cut, insert bytes, bare LFs, or none."""
    at = draw(st.integers(0, len(raw)))
    kind = draw(st.sampled_from(["none", "cut", "insert", "bare-lf", "nul"]))
    if kind == "cut":
        return raw[:at]
    if kind == "insert":
        return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    if kind == "bare-lf":
        return raw.replace(b"\r\n", b"\n")
    if kind == "nul":
        return raw[:at] + b"\0" + raw[at:]
    return raw


MESSAGES = st.one_of(st.binary(max_size=500), messages().flatmap(mutated))


class Failures(logging.Handler):
    """Collects what the parsing module logs when it swallows a parser failure."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.getMessage()}: {record.exc_info}")


@contextlib.contextmanager
def no_swallowed_failures() -> Iterator[None]:
    """Fail if parse_summary had to fall back because a parser raised."""
    failures = Failures()
    logger = logging.getLogger("mailtrap_lite.mime.headers")
    logger.addHandler(failures)
    try:
        yield
    finally:
        logger.removeHandler(failures)
    assert failures.records == []


def read_everything(raw: bytes) -> None:
    """Read every field a view of the message shows; none may raise or be unencodable."""
    with no_swallowed_failures():
        summary = parse_summary(raw)
    headers = decoded_headers(raw)
    check_message(raw, [], summary)
    message = read_message(raw)
    assert len(message.snippet) <= SNIPPET_LENGTH
    message.searchable_text(1000)
    shown = {
        "summary": [summary.subject, summary.message_id, summary.date],
        "addresses": [shapes.mailbox(m) for m in (*summary.to, *summary.cc, *summary.reply_to)],
        "headers": headers,
        "body": [message.text, message.html, message.snippet, message.headers],
        "attachments": [shapes.attachment(a) for a in message.attachments],
        "parts": shapes.part(message.tree) if message.tree else None,
        "links": [shapes.link(link) for link in message.links],
    }
    # What a page or the API shows must encode as UTF-8 (a lone surrogate would not).
    json.dumps(shown, ensure_ascii=False).encode("utf-8")


@given(MESSAGES)
def test_parsing_never_raises_on_random_or_mutated_messages(raw: bytes) -> None:
    read_everything(raw)


@given(MESSAGES)
def test_indexing_always_gives_a_result(raw: bytes) -> None:
    update = index_one(7, raw, 1000)
    assert update.id == 7 and len(update.text) <= 1000 and update.attachment_count >= 0


@given(st.text(max_size=200), st.text(max_size=200))
def test_html_to_text_drops_script_content_whatever_surrounds_it(before: str, after: str) -> None:
    text = html_to_text(before + "<script>SECRET()</script>" + after)
    assert "SECRET()" not in text or "SECRET()" in before + after


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A Store on a file of its own."""
    opened = SQLiteStore(tmp_path / "fuzz.db")
    yield opened
    opened.close()


def test_the_store_gives_back_exactly_the_bytes_it_took(store: Store) -> None:
    @given(MESSAGES)
    def run(raw: bytes) -> None:
        summary = parse_summary(raw)
        new = NewMessage(raw=raw, mail_from="a@example.com", rcpt_to=["b@example.com"],
                         session_id=None, inbox="default", received_at="2026-11-26T09:00:00.000Z",
                         summary=summary, mail_options=[],
                         warnings=check_message(raw, [], summary))  # fmt: skip
        message_id = store.add_message(new)
        store.save_index([index_one(message_id, raw, 1000)])
        record = store.get_message(message_id)
        assert store.raw(message_id) == raw
        assert record is not None and record.size == len(raw)
        json.dumps(shapes.summary(record), ensure_ascii=False).encode("utf-8")

    run()

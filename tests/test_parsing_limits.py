"""The named limits that keep parsing and indexing bounded on hostile messages (SECURITY.md)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.message import read_message
from mailtrap_lite.mime.body import BODY_HEADER_BYTES, MAX_DEPTH, MAX_PARTS
from mailtrap_lite.mime.headers import SUMMARY_HEADER_BYTES, parse_summary
from mailtrap_lite.mime.htmltext import html_to_text
from mailtrap_lite.store import Store
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.store.sqlite import SQLiteStore
from tests import bombs

LINEAR_TIME = 2.0  # seconds for a megabyte or two of hostile markup (quadratic took minutes)


def test_parts_nested_past_max_depth_become_one_attachment() -> None:
    body = read_message(bombs.nested_multiparts(MAX_DEPTH + 20))
    assert body.text is None
    [kept] = body.attachments
    assert kept.content_type == "application/octet-stream" and b"deep inside" in kept.data


def test_parts_nested_within_max_depth_are_read() -> None:
    assert read_message(bombs.nested_multiparts(MAX_DEPTH - 1)).text == "deep inside\r\n"


def test_two_thousand_nested_multiparts_parse_without_recursion_error() -> None:
    assert len(read_message(bombs.nested_multiparts(2000)).attachments) == 1


def test_only_max_parts_leaves_are_taken_and_the_rest_counted() -> None:
    body = read_message(bombs.many_parts(MAX_PARTS + 7))
    assert body.text == "part 0"  # the CRLF before a boundary belongs to the boundary
    assert len(body.attachments) == MAX_PARTS - 1
    assert body.omitted_parts == 7


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param("<script " * 200_000, id="unclosed-scripts"),
        pytest.param("<style " * 200_000, id="unclosed-styles"),
        pytest.param("<a " * 500_000, id="unclosed-tags"),
        pytest.param("<script></script" * 100_000, id="almost-closed"),
    ],
)
def test_html_to_text_is_linear_on_hostile_markup(markup: str) -> None:
    started = time.monotonic()
    html_to_text(markup)
    assert time.monotonic() - started < LINEAR_TIME


def test_script_and_style_content_is_dropped_and_unclosed_runs_to_the_end() -> None:
    text = html_to_text("<p>a</p><SCRIPT>x()</script ><style>p{}</style>b<script>never")
    assert text.split() == ["a", "b"]


def test_summary_reads_only_the_first_summary_header_bytes() -> None:
    filler = b"X-Filler: " + b"f" * SUMMARY_HEADER_BYTES + b"\r\n"
    assert parse_summary(b"Subject: early\r\n" + filler + b"\r\nbody\r\n").subject == "early"
    assert parse_summary(filler + b"Subject: late\r\n\r\nbody\r\n").subject == ""


def test_body_parser_gets_only_body_header_bytes_of_headers_and_still_reads_the_body() -> None:
    filler = b"".join(b"X-H%d: v\r\n" % n for n in range(BODY_HEADER_BYTES // 8))
    body = read_message(b"Subject: s\r\n" + filler + b"\r\nthe body\r\n")
    assert body.text == "the body\r\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = SQLiteStore(tmp_path / "limits.db")
    yield opened
    opened.close()


def _add(store: Store, size: int) -> int:
    raw = b"Subject: s\r\n\r\n" + b"x" * (size - 16) + b"\r\n"
    new = NewMessage(raw, "a@example.com", ["b@example.com"], None, "default",
                     "2026-11-26T09:00:00.000Z", parse_summary(raw))  # fmt: skip
    return store.add_message(new)


def test_unindexed_stops_at_the_byte_budget_but_always_returns_one(store: Store) -> None:
    ids = [_add(store, 1000) for _ in range(3)]
    assert [i for i, _ in store.unindexed(limit=10, max_bytes=2500)] == ids[:2]
    assert [i for i, _ in store.unindexed(limit=10, max_bytes=10)] == ids[:1]
    assert [i for i, _ in store.unindexed(limit=10)] == ids


def test_indexing_worker_cannot_allocate_past_its_memory_bound() -> None:
    script = (
        "import os\n"
        "from mailtrap_lite.store.indexer import WORKER_MEMORY, start_worker\n"
        "start_worker(os.getppid())\n"
        "try:\n"
        "    bytearray(WORKER_MEMORY)\n"
        "except MemoryError:\n"
        "    print('bounded')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.stdout.strip() == "bounded", done.stderr

"""What the message page derives from a message: file names, prepared HTML, sizes, source."""

from __future__ import annotations

import pytest

from mailtrap_lite.web.downloads import content_disposition, safe_filename
from mailtrap_lite.web.ui.content import prepare_html, remote_references
from mailtrap_lite.web.ui.model import byte_size
from mailtrap_lite.web.ui.source import MAX_MARKS, source_view


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "etc_passwd"),
        ("a\\b/c:d.txt", "a_b_c_d.txt"),
        ("line\r\nbreak\x00.txt", "linebreak.txt"),
        ("\u202etxt.exe", "txt.exe"),
        ("...", "fallback"),
        (None, "fallback"),
        ("x" * 300, "x" * 150),
    ],
)
def test_safe_filename_has_no_separators_or_control_characters(name, expected) -> None:
    assert safe_filename(name, "fallback") == expected


def test_content_disposition_carries_an_ascii_and_a_utf8_name() -> None:
    assert content_disposition("attachment", "résumé.pdf") == (
        "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )


@pytest.mark.parametrize(
    ("markup", "present", "absent"),
    [
        ('<img src="cid:logo@x">', '<img src="/m/cid/logo@x">', "cid:"),
        (
            '<META HTTP-EQUIV="Refresh" content="0;url=http://x">',
            "data-disarmed-http-equiv",
            "<META HTTP-EQUIV",
        ),
        (
            '<meta content="0;url=x" http-equiv="&#82;efresh">',
            "data-disarmed-http-equiv",
            " http-equiv",
        ),
        (
            "<meta content='0;url=x>y' http-equiv=refresh>",
            "data-disarmed-http-equiv",
            " http-equiv",
        ),
        ("<!DOCTYPE html><p>x", '<!DOCTYPE html><meta charset="utf-8">', ""),
        ('<OBJECT data="x"><p>fallback</p></object>',
         '<disarmed-OBJECT data="x"><p>fallback</p></disarmed-object>', "<OBJECT"),
        ('<embed src="x"><applet code="y"></APPLET>',
         '<disarmed-embed src="x"><disarmed-applet code="y"></disarmed-APPLET>', "<embed"),
        ("<objection>not a plugin</objection>", "<objection>", "disarmed"),
    ],
)  # fmt: skip
def test_prepare_html_rewrites_cid_and_disarms_meta_pragmas_and_plugins(
    markup, present, absent
) -> None:
    prepared = prepare_html(markup, "/m/cid/")
    assert present in prepared
    if absent:
        assert absent not in prepared


@pytest.mark.parametrize(
    ("markup", "count"),
    [
        ('<img src="https://x.example/a.png"><img src="cid:a">', 1),
        ("<div style=\"background: url('//cdn.example/b.png')\"></div>", 1),
        ('<link rel="stylesheet" href="http://x.example/s.css"><a href="https://x">l</a>', 1),
        ('<img srcset="https://x.example/2x.png 2x"><video poster=http://x/p.png>', 2),
        ('<a href="https://x.example/">only a link</a><img src="data:image/png;base64,AA">', 0),
    ],
)
def test_remote_references_count_what_would_load(markup, count) -> None:
    assert remote_references(markup) == count


@pytest.mark.parametrize(
    ("size", "words"),
    [(0, "0 bytes"), (1, "1 byte"), (157, "157 bytes"), (1023, "1,023 bytes"),
     (1024, "1.0 KiB"), (1600, "1.6 KiB"), (33_554_432, "32.0 MiB"), (3 * 1024**3, "3.0 GiB")],
)  # fmt: skip
def test_sizes_read_as_words_for_people(size, words) -> None:
    assert byte_size(size) == words


def test_source_marks_each_bare_line_ending_nul_and_long_line_where_it_is() -> None:
    raw = b"A: 1\r\nB: 2\nC: \x003\r\n\r\n" + b"x" * 1000 + b"\r\nlast\r"
    view = source_view(raw)
    assert view.counts == {"lf": 1, "nul": 1, "long": 1, "cr": 1}
    assert view.summary() == ["1 × line over 998 octets", "1 × bare LF", "1 × bare CR",
                              "1 × NUL byte"]  # fmt: skip
    shown = [(c.kind, c.note) if c.kind else c.text for c in view.chunks]
    assert shown == [
        "A: 1\nB: 2", ("lf", "LF"), "\nC: ", ("nul", "NUL"), "3\n\n",
        ("long", "line 5: 1,000 octets"), "x" * 1000 + "\nlast", ("cr", "CR"), "\n",
    ]  # fmt: skip


def test_source_text_is_the_message_without_its_markers() -> None:
    raw = "Subject: café\r\n\r\nbare\nlf\r\n".encode()
    text = "".join(c.text for c in source_view(raw).chunks)
    assert text == raw.decode().replace("\r\n", "\n")


def test_source_marks_stop_at_a_bound_and_the_rest_are_counted() -> None:
    view = source_view(b"\n" * (MAX_MARKS + 500))
    assert view.counts == {"lf": MAX_MARKS + 500} and view.marked == MAX_MARKS
    assert sum(1 for c in view.chunks if c.kind) == MAX_MARKS

"""What the message page derives from a message: file names, prepared HTML."""

from __future__ import annotations

import pytest

from mailtrap_lite.web.downloads import content_disposition, safe_filename
from mailtrap_lite.web.ui.content import prepare_html, remote_references


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
    ],
)
def test_prepare_html_rewrites_cid_and_disarms_meta_pragmas(markup, present, absent) -> None:
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

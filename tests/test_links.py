"""Links found in decoded bodies: one extractor for the API, the UI and the fixture."""

from __future__ import annotations

import pytest

from mailtrap_lite.mime.links import find_links, html_links, kind_of, prose_links, web_links

LINK_CASES = [
    ('<a href="https://x.example/r?t=1">Reset <b>now</b></a>',
     [("https://x.example/r?t=1", "Reset now")]),
    ('<a href="mailto:h@example.com"><img alt="Help"></a>',
     [("mailto:h@example.com", "[image: Help]")]),
    ("<a name=anchor>no href</a><a href=' https://a.example '>A</a>", [("https://a.example", "A")]),
    ('<a href="javascript:alert(1)">evil</a>', [("javascript:alert(1)", "evil")]),
]  # fmt: skip


@pytest.mark.parametrize(("markup", "expected"), LINK_CASES)
def test_html_links_pair_each_href_with_its_text(markup, expected) -> None:
    assert [(link.url, link.text) for link in html_links(markup)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Go to https://x.example/a?b=c.", ["https://x.example/a?b=c"]),
        ("(see http://x.example/p) and mailto:a@x.example,",
         ["http://x.example/p", "mailto:a@x.example"]),
        ("no links here", []),
    ],
)  # fmt: skip
def test_text_links_trim_trailing_punctuation(text, expected) -> None:
    assert [link.url for link in prose_links(text, "text")] == expected


def test_find_links_lists_each_url_once_html_first() -> None:
    text, html = "https://x.example/a https://x.example/b", '<a href="https://x.example/a">A</a>'
    assert [(link.url, link.source) for link in find_links(text, html)] == [
        ("https://x.example/a", "html"),
        ("https://x.example/b", "text"),
    ]


HTML_ONLY = (
    "<p>Visit https://prose.example/page today.</p>"
    '<map><area href="https://area.example/x" alt="Region"></map>'
    '<a href="https://anchor.example/">Anchor</a><a href="https://anchor.example/">Again</a>'
    '<a href="mailto:help@example.com">Mail us</a><a href="ftp://files.example/f">File</a>'
    '<a href="#top">Top</a><img src="cid:logo">'
)


def test_html_only_body_gives_every_link_once_with_its_kind_and_source() -> None:
    found = [(link.url, link.kind, link.source) for link in find_links(None, HTML_ONLY)]
    assert found == [
        ("https://area.example/x", "web", "html"),
        ("https://anchor.example/", "web", "html"),
        ("mailto:help@example.com", "mailto", "html"),
        ("ftp://files.example/f", "ftp", "html"),
        ("https://prose.example/page", "web", "html-text"),
    ]


def test_web_links_are_the_http_ones_in_order() -> None:
    assert web_links(find_links(None, HTML_ONLY)) == [
        "https://area.example/x",
        "https://anchor.example/",
        "https://prose.example/page",
    ]


@pytest.mark.parametrize(
    ("url", "kind"),
    [("HTTPS://x", "web"), ("mailto:a@b", "mailto"), ("tel:+1", "tel"), ("ftp://f", "ftp"),
     ("javascript:x()", "other"), ("/relative", "other")],
)  # fmt: skip
def test_a_link_kind_comes_from_its_scheme(url: str, kind: str) -> None:
    assert kind_of(url) == kind


def test_html_the_parser_gives_up_on_keeps_the_links_before() -> None:
    assert [link.url for link in html_links('<a href="https://a">a</a><![x[y]]>')] == ["https://a"]

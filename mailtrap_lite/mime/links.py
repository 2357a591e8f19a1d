"""Find links in decoded message bodies. Pure functions, no I/O.

They work on decoded parts only: in the raw source a quoted-printable soft line break or an
`=3D` splits a URL, and an HTML entity such as `&amp;` hides a query separator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from mailtrap_lite.mime.htmltext import html_to_text

_URL = re.compile(r"""https?://[^\s<>"'\[\]{}|\\^`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"


class _Anchors(HTMLParser):
    """Collect href values of <a> and <area>; the parser has already decoded entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "area"):
            return
        for name, value in attrs:
            if name == "href" and value:
                self.hrefs.append(value.strip())


def hrefs(markup: str) -> list[str]:
    """Return the http(s) hrefs of an HTML document, in order."""
    parser = _Anchors()
    parser.feed(markup)
    parser.close()
    return [h for h in parser.hrefs if h.lower().startswith(("http://", "https://"))]


def urls_in_text(text: str) -> list[str]:
    """Return the http(s) URLs written in plain text, without trailing punctuation."""
    return [_trim(m.group()) for m in _URL.finditer(text)]


def _trim(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url


def find_links(text: str | None, html: str | None) -> list[str]:
    """Return HTML hrefs, then URLs of the text (or of the HTML's text), de-duplicated."""
    found = hrefs(html) if html else []
    prose = text if text is not None else html_to_text(html or "")
    return _unique([*found, *urls_in_text(prose)])


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

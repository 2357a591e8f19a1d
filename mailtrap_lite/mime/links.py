"""Find the links of a message in its decoded bodies. Pure functions, no I/O.

One extractor for every surface (the API, the UI's Links tab, the fixture's `links()`). It
reads decoded parts only: in the raw source a quoted-printable soft line break or an `=3D`
splits a URL, and an HTML entity such as `&amp;` hides a query separator.

A link is found in an HTML `<a href>` or `<area href>` ("html"), or written as a URL in the
text body ("text"), or, for a message with no text body, in the HTML's prose ("html-text").
Each gets a kind from its scheme: "web" (http, https), "mailto", "tel", "ftp" or "other".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from mailtrap_lite.mime.htmltext import html_to_text

# Enough of RFC 3986 to find URLs in prose; trailing punctuation is trimmed afterwards.
_URL = re.compile(r"""(?:https?|ftp)://[^\s<>"'\[\]{}|\\^`]+|mailto:[^\s<>"'\[\]{}|\\^`]+""", re.I)
_TRAILING = ".,;:!?"
_SPACES = re.compile(r"\s+")
KINDS = {"http": "web", "https": "web", "mailto": "mailto", "tel": "tel", "ftp": "ftp"}
# References inside the message itself, not links a reader follows.
_INTERNAL = ("#", "cid:")


@dataclass(frozen=True)
class Link:
    """One link: where it points, its kind, where it was found and its visible text."""

    url: str
    kind: str  # "web", "mailto", "tel", "ftp" or "other"
    source: str  # "html" (<a>, <area>), "html-text" (prose of the HTML) or "text"
    text: str = ""  # an anchor's visible text (the alt text of its images)


def kind_of(url: str) -> str:
    """Return the kind of a URL from its scheme (RFC 3986 §3.1: case-insensitive)."""
    scheme, colon, _ = url.partition(":")
    return KINDS.get(scheme.lower(), "other") if colon else "other"


class _Anchors(HTMLParser):
    """Collect (href, visible text) of every <a> and <area>; entities are already decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        href = (values.get("href") or "").strip()
        if tag == "a" and href:
            self._open.append((href, []))
        elif tag == "area" and href:
            self.found.append((href, values.get("alt") or ""))
        elif tag == "img" and self._open:
            alt = values.get("alt")
            self._open[-1][1].append(f"[image: {alt}]" if alt else "[image]")

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.found.append((href, _SPACES.sub(" ", "".join(text)).strip()))

    def close(self) -> None:
        super().close()
        while self._open:  # an <a> never closed still links
            self.handle_endtag("a")


def html_links(markup: str) -> list[Link]:
    """Return the hrefs of <a> and <area> elements with their visible text, in order."""
    parser = _Anchors()
    try:
        parser.feed(markup)
        parser.close()
    except AssertionError:  # html.parser gives up on some marked sections ("<![foo[")
        pass  # the links before that point are kept
    return [
        Link(href, kind_of(href), "html", text)
        for href, text in parser.found
        if not href.lower().startswith(_INTERNAL)
    ]


def prose_links(text: str, source: str) -> list[Link]:
    """Return the URLs written in plain text, without trailing punctuation, in order."""
    urls = (_trim(match.group()) for match in _URL.finditer(text))
    return [Link(url, kind_of(url), source) for url in urls]


def _trim(url: str) -> str:
    url = url.rstrip(_TRAILING)
    if url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url


def find_links(text: str | None, html: str | None) -> list[Link]:
    """Return every link: HTML hrefs first, then URLs of the text (or of the HTML's prose).

    Each URL is listed once, where it was first found.
    """
    found = html_links(html) if html else []
    if text is not None:
        found += prose_links(text, "text")
    elif html:
        found += prose_links(html_to_text(html), "html-text")
    unique: dict[str, Link] = {}
    for link in found:
        unique.setdefault(link.url, link)
    return list(unique.values())


def web_links(links: list[Link]) -> list[str]:
    """Return the http(s) URLs among the links, in order (the fixture's `links()`)."""
    return [link.url for link in links if link.kind == "web"]

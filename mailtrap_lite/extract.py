"""Find links and one-time codes in decoded message bodies. Pure functions, no I/O.

They work on decoded parts only: in the raw source a quoted-printable soft line break or an
`=3D` splits a URL, and an HTML entity such as `&amp;` hides a query separator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from mailtrap_lite.parsing import html_to_text

DEFAULT_CODE = re.compile(r"\b\d{4,8}\b")

_URL = re.compile(r"""https?://[^\s<>"'\[\]{}|\\^`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"
# Digits that belong to a date, time, price or amount are not codes: 2026-11-26, 12/11/2026,
# 1,250.00, $1999, (c) 2026, order #20391.
_NUMBER_BEFORE = re.compile(r"(?:[-/.,$€£¥#]|©\s?|\(c\)\s?)$", re.IGNORECASE)
_NUMBER_AFTER = re.compile(r"^(?:[-/.:,]\d|\s?(?:€|EUR|USD|%))", re.IGNORECASE)


class ExtractionError(AssertionError):
    """Not exactly one link or code was found; the message lists the candidates."""


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


def find_codes(text: str, pattern: str | re.Pattern[str] | None = None) -> list[str]:
    """Return the distinct codes in the text: group 1 of the pattern if it has one."""
    regex = re.compile(pattern) if pattern is not None else DEFAULT_CODE
    found: list[str] = []
    for match in regex.finditer(text):
        if pattern is None and _looks_like_number(text, match):
            continue
        found.append(match.group(1) if regex.groups else match.group())
    return _unique(found)


def _looks_like_number(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 4) : match.start()]
    after = text[match.end() : match.end() + 4]
    return bool(_NUMBER_BEFORE.search(before) or _NUMBER_AFTER.match(after))


def exactly_one(kind: str, candidates: list[str], wanted: str, where: str) -> str:
    """Return the single candidate or fail, listing what was found."""
    __tracebackhide__ = True
    if len(candidates) == 1:
        return candidates[0]
    listed = "".join(f"\n  {c}" for c in candidates) if candidates else " none"
    raise ExtractionError(
        f"expected exactly one {kind}{wanted} in {where}, found {len(candidates)}:{listed}"
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

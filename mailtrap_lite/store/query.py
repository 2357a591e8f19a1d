"""The search language of INTERFACE.md, parsed into terms (no SQL here: see search.py).

    invoice from:shop@example.com -is:read after:2024-05-01 "order #1042" header:X-Tag=promo

Terms combine with AND; `-` negates any term; a field takes a quoted phrase. Dates become
RFC 3339 UTC instants (a date means its 00:00 UTC), sizes become bytes (K = 1024, M = 1024²).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.querycost import cost_error

__all__ = ["Query", "QueryError", "Term", "parse_query"]

ADDRESS_FIELDS = ("from", "to", "cc", "bcc")
FIELDS = (*ADDRESS_FIELDS, "subject", "inbox", "header", "is", "has", "before", "after",
          "larger", "smaller")  # fmt: skip
FLAGS = ("is:read", "is:unread", "has:attachment", "has:attachments")
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
MAX_SIZE = 2**63 - 1  # the largest size SQLite can compare with

_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]?)B?", re.IGNORECASE)


class QueryError(ValueError):
    """A query that cannot be parsed; the message names the offending part."""


@dataclass(frozen=True)
class Term:
    """One term: a field ("text" for free words and phrases), its value, negation."""

    field: str
    value: str
    negated: bool = False
    header: str | None = None  # the header name of header:Name=value


@dataclass(frozen=True)
class Query:
    """A parsed query: terms that must all hold."""

    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_query(text: str) -> Query:
    """Parse the search language; raise QueryError pointing at the offending part."""
    if "\x00" in text:  # FTS5 reads its query as a C string: a NUL would cut it short
        raise QueryError(f"NUL character at position {text.index(chr(0)) + 1}")
    sources = _split(text)
    too_costly = cost_error(len(sources))  # before any term is parsed, let alone run
    if too_costly is not None:
        raise QueryError(too_costly)
    return Query(tuple(_parse_term(source, at) for source, at in sources))


def _split(text: str) -> list[tuple[str, int]]:
    """Split at whitespace outside double quotes; return (term, position) pairs."""
    terms: list[tuple[str, int]] = []
    start: int | None = None
    quoted_at: int | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace() and quoted_at is None:
            if start is not None:
                terms.append((text[start:i], start))
                start = None
        else:
            start = i if start is None else start
            if char == "\\" and quoted_at is not None:
                i += 1  # an escaped character inside quotes
            elif char == '"':
                quoted_at = i if quoted_at is None else None
        i += 1
    if quoted_at is not None:
        raise QueryError(f"unterminated quote at position {quoted_at + 1}: {text[quoted_at:]!r}")
    if start is not None:
        terms.append((text[start:], start))
    return terms


def _unquote(text: str) -> str:
    """Remove surrounding double quotes and backslash escapes inside them."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)
    return text


def _parse_term(source: str, at: int) -> Term:
    negated = source.startswith("-")
    body = source[1:] if negated else source
    where = f"{source!r} (position {at + 1})"
    if not body:
        raise QueryError(f"nothing to negate in {where}")
    match = _FIELD.fullmatch(body)
    if match is None or match.group(2).startswith("//"):  # a URL is a free word
        value = _unquote(body)
        if not value.strip():
            raise QueryError(f"empty phrase in {where}")
        return Term("text", value, negated)
    name, raw = match.group(1).lower(), match.group(2)
    if name not in FIELDS:
        raise QueryError(
            f"unknown filter {match.group(1) + ':'!r} in {where}; known filters are "
            f"{', '.join(f + ':' for f in FIELDS)} (quote the text to search for it)"
        )
    if not raw:
        raise QueryError(f"{name}: needs a value in {where}")
    return _field_term(name, raw, negated, where)


def _field_term(name: str, raw: str, negated: bool, where: str) -> Term:
    if name == "header":
        header, _, value = _unquote(raw).partition("=")  # header:"X-A=b c" or X-A="b c"
        if not header.strip():
            raise QueryError(f"header: needs a name (header:Name=value) in {where}")
        return Term("header", _unquote(value.strip()), negated, header.strip().lower())
    value = _unquote(raw)
    if name in ("is", "has"):
        if f"{name}:{value.lower()}" not in FLAGS:
            known = ", ".join(f for f in FLAGS if f.startswith(name))
            raise QueryError(f"unknown value {value!r} in {where}; expected {known}")
        return Term(name, value.lower(), negated)
    if name in ("before", "after"):
        return Term(name, _parse_date(value, where), negated)
    if name in ("larger", "smaller"):
        return Term(name, str(_parse_size(value, where)), negated)
    if name in ADDRESS_FIELDS:  # also "Name <address>" as copied from a header
        value = email.utils.parseaddr(value)[1] or value.strip()
    if not value.strip():
        raise QueryError(f"{name}: needs a value in {where}")
    return Term(name, value, negated)


def _parse_date(value: str, where: str) -> str:
    """Return the RFC 3339 UTC instant a date (00:00 UTC) or an ISO date-time stands for."""
    try:
        day = dt.date.fromisoformat(value)
        when = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(
                f"bad date {value!r} in {where}; expected YYYY-MM-DD or an ISO 8601 date-time"
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return rfc3339(when)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first instant Python has
        raise QueryError(f"date {value!r} out of range in {where}") from None


def _parse_size(value: str, where: str) -> int:
    match = _SIZE.fullmatch(value.strip())
    if match is None or not match.group(1).isascii():
        raise QueryError(f"bad size {value!r} in {where}; expected a number with K or M (1024)")
    size = float(match.group(1)) * UNITS[match.group(2).upper()]
    if not size <= MAX_SIZE:  # SQLite's integers are 64-bit; also refuses inf
        raise QueryError(f"size {value!r} out of range in {where}")
    return int(size)

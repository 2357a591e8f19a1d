"""How each term of the search language is read: one reader per filter, in FIELDS.

A new filter is an entry here (its reader returns a Term with the normalized value), a
translation in each backend's search SQL, and a row of the help (queryhelp.py).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.folding import fold, fold_address
from mailtrap_lite.store.querytree import QueryError, Term

__all__ = ["ADDRESS_FIELDS", "FIELDS", "FLAGS", "TEXT_FIELDS", "Source", "read_term"]

ADDRESS_FIELDS = ("from", "to", "cc", "bcc")
TEXT_FIELDS = ("text", "subject", "filename")  # folded substrings ("text": free words)
# is:VALUE and has:VALUE, with spellings that mean the same.
FLAGS = {"is": ("read", "unread", "tagged"), "has": ("attachment",)}
FLAG_SPELLINGS = {"attachments": "attachment"}
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
MAX_SIZE = 2.0**62

_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]?)B?", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """One word of the query as written: `field:raw`, or a free word (field None)."""

    text: str
    at: int
    field: str | None
    raw: str

    @classmethod
    def of(cls, text: str, at: int) -> Source:
        match = _FIELD.fullmatch(text)
        if match is None or match.group(2).startswith("//"):  # a URL is a free word
            return cls(text, at, None, text)
        return cls(text, at, match.group(1).lower(), match.group(2))

    def fail(self, what: str, hint: str = "") -> NoReturn:
        """Raise a QueryError pointing at this word."""
        raise QueryError(f"{what} in {self.text!r}", self.at, len(self.text), hint)

    def term(self, value: str, header: str | None = None) -> Term:
        return Term(self.field or "text", value, self.at, header)


def read_term(text: str, at: int) -> Term:
    """Read one word of the query (at `at`) into a Term."""
    source = Source.of(text, at)
    if source.field is None:
        return _text(source)
    read = FIELDS.get(source.field)
    if read is None:
        known = ", ".join(f + ":" for f in FIELDS)
        source.fail(f"unknown filter {text[: text.index(':') + 1]!r}",
                    f"known filters are {known} (quote the text to search for it)")  # fmt: skip
    if not source.raw:
        source.fail(f"{source.field}: needs a value")
    return read(source)


def _unquote(text: str) -> str:
    """Remove surrounding double quotes and backslash escapes inside them."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)
    return text


def _text(source: Source) -> Term:
    """Read a free word, a phrase or subject:'s value: a folded substring."""
    value = _unquote(source.raw)
    if not value.strip():
        source.fail("empty phrase")
    return _folded(source, value)


def _folded(source: Source, value: str) -> Term:
    folded = fold(value)
    if not folded.strip():  # only marks that folding removes
        source.fail("nothing to search for")
    return source.term(folded)


def _filename(source: Source) -> Term:
    """Read part of an attachment's file name; `*` at its ends is allowed (`*.pdf`)."""
    value = _unquote(source.raw).strip("*")
    if "*" in value:
        source.fail("'*' inside a file name", "filename: takes part of a name, * only at its ends")
    if not value.strip():
        source.fail("filename: needs part of a file name")
    return _folded(source, value)


def _address(source: Source) -> Term:
    """Read an address, a domain (`shop.example`, `@shop.example`) or a glob (`*`)."""
    value = _unquote(source.raw).strip()
    if "<" in value:  # "Name <address>" as copied from a header
        value = email.utils.parseaddr(value)[1] or value
    value = fold_address(value)
    if not value:
        source.fail(f"{source.field}: needs a value")
    if "@" not in value:  # a domain: every address at it
        value = "*@" + value
    elif value.startswith("@"):
        value = "*" + value
    return source.term(value)


def _exact(source: Source) -> Term:
    return source.term(_unquote(source.raw))


def _tag(source: Source) -> Term:
    """Read a tag name; names compare without case, so the value is kept as written."""
    name = _unquote(source.raw).strip()
    if not name:
        source.fail("tag: needs a name")
    return source.term(name)


def _header(source: Source) -> Term:
    header, _, value = _unquote(source.raw).partition("=")  # header:"X-A=b c" or X-A="b c"
    if not header.strip():
        source.fail("header: needs a name (header:Name=value)")
    return source.term(_unquote(value.strip()), header.strip().lower())


def _flag(source: Source) -> Term:
    name = source.field or ""
    value = _unquote(source.raw).lower()
    value = FLAG_SPELLINGS.get(value, value)
    if value not in FLAGS[name]:
        known = ", ".join(f"{name}:{v}" for v in FLAGS[name])
        source.fail(f"unknown value {value!r}", f"expected {known}")
    return source.term(value)


def _date(source: Source) -> Term:
    """Read a date (its 00:00 UTC) or an ISO 8601 date-time into an RFC 3339 UTC instant."""
    value = _unquote(source.raw)
    try:
        day = dt.date.fromisoformat(value)
        when = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            source.fail(f"bad date {value!r}", "expected YYYY-MM-DD or an ISO 8601 date-time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return source.term(rfc3339(when))
    except (ValueError, OverflowError):  # out of range once in UTC (year 1 or 9999)
        source.fail(f"date out of range {value!r}")


def _size(source: Source) -> Term:
    value = _unquote(source.raw)
    match = _SIZE.fullmatch(value.strip())
    if match is None or not match.group(1).isascii():  # \d also matches other scripts' digits
        source.fail(f"bad size {value!r}", "expected a number with K or M (1024)")
    size = float(match.group(1)) * UNITS[match.group(2).upper()]
    if not size < MAX_SIZE:  # also inf: databases hold 64-bit integers
        source.fail(f"size out of range {value!r}")
    return source.term(str(int(size)))


# The filters in the order the help and the error for an unknown one list them.
FIELDS: dict[str, Callable[[Source], Term]] = {
    **dict.fromkeys(ADDRESS_FIELDS, _address),
    "subject": _text,
    "filename": _filename,
    "inbox": _exact,
    "tag": _tag,
    "header": _header,
    "is": _flag,
    "has": _flag,
    "before": _date,
    "after": _date,
    "larger": _size,
    "smaller": _size,
}

"""Mailpit's search syntax, on the --mailpit-http listener, over our Store.

    from:shop is:unread -tag:done subject:"your order" after:2024-05-01 larger:1M

Terms combine with AND; `-` or `!` negates one. Where the meaning is ours too (free words,
`subject:`, `tag:`, `is:`, `has:attachment`, dates, sizes) the term becomes a term of our
query language and the Store answers it. Mailpit's address filters (`from: to: cc: bcc:
reply-to: addressed:`) match any part of an address or display name, where ours match whole
addresses, so those (and `message-id:`) are checked here on each candidate. Other filters
(`has:inline` among them) are searched for as text.
Dates take Mailpit's `tz` parameter (an IANA zone name; UTC without it).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from mailtrap_lite.mime.headers import Mailbox, rfc3339
from mailtrap_lite.store.fields import MAX_SIZE
from mailtrap_lite.store.folding import fold
from mailtrap_lite.store.query import And, Node, Not, Query, Term
from mailtrap_lite.store.records import MessageRecord

Check = Callable[[MessageRecord], bool]

ADDRESS_FIELDS = ("from", "to", "cc", "bcc", "reply-to", "addressed")
FLAGS = {"is:read": ("is", "read"), "is:unread": ("is", "unread"), "is:tagged": ("is", "tagged"),
         "has:attachment": ("has", "attachment"),
         "has:attachments": ("has", "attachment")}  # fmt: skip
UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2}
DATE_FORMATS = ("%Y/%m/%d", "%m/%d/%Y", "%d %b %Y", "%d-%b-%Y", "%b %d %Y", "%B %d %Y",
                "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([a-z]*)")


class SearchError(ValueError):
    """A search Mailpit's syntax cannot read (a bad date, size or zone)."""


@dataclass
class MailpitSearch:
    """A parsed search: terms for the Store, and checks to run on each candidate."""

    terms: list[Node] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def query(self) -> Query | None:
        """Return the part the Store answers (all its terms must hold), or None (everything)."""
        if not self.terms:
            return None
        return Query(self.terms[0] if len(self.terms) == 1 else And(tuple(self.terms)))

    def add(self, term: Term, negated: bool) -> None:
        """Add a term for the Store, negated or not."""
        self.terms.append(Not(term) if negated else term)

    def keep(self, record: MessageRecord) -> bool:
        """Tell whether a candidate passes every check."""
        return all(check(record) for check in self.checks)


def parse_search(text: str, tz: str | None = None) -> MailpitSearch:
    """Read Mailpit's search syntax; SearchError says what cannot be read."""
    zone = _zone(tz)
    found = MailpitSearch()
    for token in _tokens(text):
        negated = token[:1] in ("-", "!") and len(token) > 1
        body = token[1:] if negated else token
        _add(found, body, negated, zone)
    return found


def _zone(tz: str | None) -> dt.tzinfo:
    if not tz:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SearchError(f"unknown time zone {tz!r}") from None


def _tokens(text: str) -> list[str]:
    """Split at spaces outside double quotes, dropping the quotes (as Mailpit does)."""
    tokens, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def _add(found: MailpitSearch, body: str, negated: bool, zone: dt.tzinfo) -> None:
    name, colon, value = body.partition(":")
    name = name.lower()
    if body.lower() in FLAGS:
        found.add(Term(*FLAGS[body.lower()]), negated)
    elif colon and value and name in ADDRESS_FIELDS:
        found.checks.append(_negate(_address_check(name, value), negated))
    elif colon and value and name == "message-id":
        found.checks.append(_negate(lambda r: value.lower() in (r.message_id or "").lower(),
                                    negated))  # fmt: skip
    elif colon and value and name == "subject":  # our query values come folded
        found.add(Term(name, fold(value)), negated)
    elif colon and value and name == "tag":
        found.add(Term(name, value), negated)
    elif colon and value and name in ("before", "after"):
        found.add(Term(name, _date(value, zone)), negated)
    elif colon and value and name in ("larger", "smaller"):
        found.add(Term(name, str(_size(value))), negated)
    else:  # a word, or an unknown filter: searched as text, as Mailpit does
        found.add(Term("text", fold(body)), negated)


def _negate(check: Check, negated: bool) -> Check:
    return (lambda record: not check(record)) if negated else check


def _address_check(name: str, needle: str) -> Check:
    wanted = needle.lower()

    def boxes(record: MessageRecord) -> list[Mailbox]:
        bcc = [Mailbox(None, a) for a in record.bcc]
        by_field = {"from": [record.from_] if record.from_ else [], "to": record.to,
                    "cc": record.cc, "bcc": bcc, "reply-to": record.reply_to}  # fmt: skip
        if name == "addressed":
            return [box for boxes in by_field.values() for box in boxes]
        return by_field[name]

    def check(record: MessageRecord) -> bool:
        return any(wanted in f"{b.name or ''} <{b.address}>".lower() for b in boxes(record))

    return check


def _date(value: str, zone: dt.tzinfo) -> str:
    """Return the instant a date (its 00:00 in `zone`) or a date-time stands for."""
    when = _parsed_date(value.strip())
    if when is None:
        raise SearchError(f"cannot read the date {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    try:
        return rfc3339(when)
    except (ValueError, OverflowError):  # out of range once in UTC (year 1 or 9999)
        raise SearchError(f"the date {value!r} is out of range") from None


def _parsed_date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _size(value: str) -> int:
    match = _SIZE.fullmatch(value.strip().lower())
    if match is None or match.group(2) not in UNITS or not match.group(1).isascii():
        raise SearchError(f"cannot read the size {value!r}; use a number with k, kb, m or mb")
    size = float(match.group(1)) * UNITS[match.group(2)]
    if not size < MAX_SIZE:  # also inf: the database holds 64-bit integers
        raise SearchError(f"the size {value!r} is out of range")
    return int(size)

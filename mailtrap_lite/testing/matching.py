"""Filters over captured messages, the keyword arguments of wait_for and the assertions.

Each filter is a named criterion, so a failure can say which criteria a near miss met and
what the message had instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from mailtrap_lite.testing.captured import CapturedMessage

Where = Callable[[CapturedMessage], bool]
TextOrPattern = str | re.Pattern[str]


class FilterArgs(TypedDict, total=False):
    """The filters every waiting and asserting method takes."""

    to: str
    from_: str
    subject: TextOrPattern
    contains: str
    header: tuple[str, TextOrPattern]
    where: Where


@dataclass(frozen=True)
class Criterion:
    """One filter: what it expects, how to test a message and what a message has instead."""

    name: str
    expected: str
    test: Where
    actual: Callable[[CapturedMessage], str]


class MessageFilter:
    """All the given criteria; cheap ones (envelope, subject) are tested first."""

    def __init__(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        subject: TextOrPattern | None = None,
        contains: str | None = None,
        header: tuple[str, TextOrPattern] | None = None,
        where: Where | None = None,
    ) -> None:
        built = [
            _to(to) if to is not None else None,
            _from(from_) if from_ is not None else None,
            _subject(subject) if subject is not None else None,
            _header(header) if header is not None else None,
            _contains(contains) if contains is not None else None,
            _where(where) if where is not None else None,
        ]
        self.criteria = [c for c in built if c is not None]

    def __call__(self, message: CapturedMessage) -> bool:
        return all(c.test(message) for c in self.criteria)

    def misses(self, message: CapturedMessage) -> list[Criterion]:
        """Return the criteria this message does not meet."""
        return [c for c in self.criteria if not c.test(message)]

    def describe(self) -> str:
        """Return the criteria as keyword arguments, or "" when there are none."""
        return " ".join(f"{c.name}={c.expected}" for c in self.criteria)


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}= takes a string, not {type(value).__name__}")
    return value


def _matches(expected: TextOrPattern, actual: str) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.search(actual) is not None
    return expected == actual


def _shown(expected: TextOrPattern) -> str:
    return (
        f"re.compile({expected.pattern!r})" if isinstance(expected, re.Pattern) else repr(expected)
    )


def _text_or_pattern(value: object, name: str) -> TextOrPattern:
    if isinstance(value, re.Pattern):
        return value
    return _text(value, name)


def _to(value: str) -> Criterion:
    wanted = _text(value, "to").lower()
    return Criterion(
        "to",
        repr(value),
        lambda m: any(r.lower() == wanted for r in m.rcpt_to),
        lambda m: "envelope to " + ", ".join(m.rcpt_to),
    )


def _from(value: str) -> Criterion:
    wanted = _text(value, "from_").lower()
    return Criterion(
        "from_",
        repr(value),
        lambda m: wanted in ((m.from_ or "").lower(), m.mail_from.lower()),
        lambda m: f"from {m.from_!r} (envelope {m.mail_from!r})",
    )


def _subject(value: TextOrPattern) -> Criterion:
    wanted = _text_or_pattern(value, "subject")
    return Criterion(
        "subject", _shown(wanted), lambda m: _matches(wanted, m.subject), lambda m: repr(m.subject)
    )


def _header(value: tuple[str, TextOrPattern]) -> Criterion:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise TypeError("header= takes a (name, value) tuple")
    name, wanted = _text(value[0], "header name"), _text_or_pattern(value[1], "header value")
    return Criterion(
        "header",
        f"({name!r}, {_shown(wanted)})",
        lambda m: any(_matches(wanted, v) for v in m.header_values(name)),
        lambda m: f"{name}: {m.header_values(name) or 'absent'}",
    )


def _contains(value: str) -> Criterion:
    wanted = _text(value, "contains")
    return Criterion(
        "contains",
        repr(wanted),
        lambda m: m.body_contains(wanted),
        lambda m: "body " + repr(_excerpt(m.readable_text)),
    )


def _where(value: Where) -> Criterion:
    if not callable(value):
        raise TypeError("where= takes a callable")
    name = getattr(value, "__name__", repr(value))
    return Criterion("where", name, lambda m: bool(value(m)), lambda m: "where() was false")


def _excerpt(text: str, length: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"

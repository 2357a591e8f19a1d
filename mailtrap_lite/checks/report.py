"""A deliverability report: checks with a status, a reason and the rule behind each.

`fail` means the mail is broken: a major receiver rejects it or files it as spam under a
published rule, or what the recipient sees is wrong. `warn` is risky or poor practice,
`info` is context, `pass` says a rule was checked and met.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

FAIL, WARN, PASS, INFO = "fail", "warn", "pass", "info"
STATUSES = (FAIL, WARN, INFO, PASS)  # the order a report lists its checks in
CATEGORIES = ("authentication", "bulk", "format", "content", "transport", "spam")


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it came out, why, and the rule behind it."""

    id: str  # "category.name", stable: tests and ignore lists name checks by it
    category: str
    status: str
    title: str
    detail: str
    reference: str


def check(check_id: str, status: str, title: str, detail: str, reference: str) -> Check:
    """Return a Check whose category is the first part of its id ("content.html-size")."""
    return Check(check_id, check_id.partition(".")[0], status, title, detail, reference)


@dataclass(frozen=True)
class Report:
    """Every check of one message, failing ones first."""

    checks: tuple[Check, ...]

    @classmethod
    def of(cls, checks: list[Check]) -> Report:
        """Return a report listing failures first, then warnings, context and passes."""

        def order(found: Check) -> tuple[int, int]:
            return STATUSES.index(found.status), CATEGORIES.index(found.category)

        return cls(tuple(sorted(checks, key=order)))

    @property
    def summary(self) -> dict[str, int]:
        """Return how many checks failed, warned and passed (context is not counted)."""
        counts = Counter(found.status for found in self.checks)
        return {FAIL: counts[FAIL], WARN: counts[WARN], PASS: counts[PASS]}

    @property
    def failures(self) -> list[Check]:
        """Return the failing checks."""
        return [found for found in self.checks if found.status == FAIL]

    def with_checks(self, more: list[Check]) -> Report:
        """Return this report with more checks added (in their place in the order)."""
        return Report.of([*self.checks, *more])


SHOWN = 5  # findings listed in a detail


def listed(items: list[str]) -> str:
    """Return the first SHOWN items joined, saying how many more there are."""
    more = f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return "; ".join(items[:SHOWN]) + more

"""Failure messages of the test view: what was expected, what did arrive, what came close."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from mailtrap_lite.checks import Check
from mailtrap_lite.testing.captured import CapturedMessage
from mailtrap_lite.testing.matching import MessageFilter

CLOSEST = 3
COLUMN = 40


class MailAssertionError(AssertionError):
    """An expectation on captured mail failed; the message shows what arrived instead."""


def expectation(what: str, count: int, flt: MessageFilter) -> str:
    """Return "1 message to='a@b.c'" style wording for a headline."""
    noun = "message" if count == 1 else "messages"
    criteria = flt.describe()
    return f"{what}{count} {noun}" + (f" matching {criteria}" if criteria else "")


def report(headline: str, arrived: Sequence[CapturedMessage], flt: MessageFilter) -> str:
    """Return the headline, the table of arrived mail and the closest candidates."""
    lines = [headline]
    if not arrived:
        lines.append("no message arrived during this test")
        return "\n".join(lines)
    lines.append(f"{len(arrived)} message(s) arrived during this test:")
    lines += ["  " + row for row in table(arrived)]
    near = closest(arrived, flt)
    if near:
        lines.append("closest candidates:")
        lines += near
    return "\n".join(lines)


def table(messages: Sequence[CapturedMessage]) -> list[str]:
    """Return aligned rows: id, time, from, to, subject."""
    rows = [("id", "time (UTC)", "from", "to", "subject")]
    rows += [
        (
            f"#{m.id}",
            m.record.received_at[11:23],
            _cut(m.from_ or m.mail_from or "<>"),
            _cut(", ".join(m.rcpt_to)),
            repr(m.subject),
        )
        for m in messages
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[4]])
            for row in rows]  # fmt: skip


def closest(messages: Sequence[CapturedMessage], flt: MessageFilter) -> list[str]:
    """Describe the messages that miss the fewest criteria (but miss some), best first."""
    misses = [(flt.misses(m), m) for m in messages]
    near = sorted(((missed, m) for missed, m in misses if missed), key=lambda p: len(p[0]))
    lines = []
    for missed, message in near[:CLOSEST]:
        reasons = "; ".join(f"{c.name}: {c.actual(message)}" for c in missed)
        lines.append(f"  #{message.id} {message.subject!r}: {reasons}")
    return lines


def _cut(text: str) -> str:
    return text if len(text) <= COLUMN else text[: COLUMN - 1] + "…"


def ignored(found: Check, ignore: Iterable[str]) -> bool:
    """Say whether a check is ignored: by its id, its category, or a glob ("spam.*")."""
    return any(
        found.id == name or found.category == name or fnmatch.fnmatchcase(found.id, name)
        for name in ignore
    )


def undeliverable(message: CapturedMessage, failing: Sequence[Check]) -> str:
    """Return what fails: each failing check with its detail and the rule behind it."""
    noun = "check fails" if len(failing) == 1 else "checks fail"
    lines = [f"message #{message.id} {message.subject!r} would not be delivered as sent:"
             f" {len(failing)} {noun}"]  # fmt: skip
    for found in failing:
        lines.append(f"  {found.id}: {found.title}")
        if found.detail:
            lines.append(f"      {found.detail}")
        lines.append(f"      ({found.reference})")
    lines.append(f"(to accept one: assert_deliverable(message, ignore=[{failing[0].id!r}]))")
    return "\n".join(lines)

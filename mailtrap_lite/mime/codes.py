"""Find one-time codes in decoded message text. Pure functions, no I/O."""

from __future__ import annotations

import re

DEFAULT_CODE = re.compile(r"\b\d{4,8}\b")

# Digits that belong to a date, time, price or amount are not codes: 2026-11-26, 12/11/2026,
# 1,250.00, $1999, (c) 2026, order #20391.
_NUMBER_BEFORE = re.compile(r"(?:[-/.,$€£¥#]|©\s?|\(c\)\s?)$", re.IGNORECASE)
_NUMBER_AFTER = re.compile(r"^(?:[-/.:,]\d|\s?(?:€|EUR|USD|%))", re.IGNORECASE)


def find_codes(text: str, pattern: str | re.Pattern[str] | None = None) -> list[str]:
    """Return the distinct codes in the text: group 1 of the pattern if it has one."""
    regex = re.compile(pattern) if pattern is not None else DEFAULT_CODE
    found: list[str] = []
    for match in regex.finditer(text):
        if pattern is None and _looks_like_number(text, match):
            continue
        found.append(match.group(1) if regex.groups else match.group())
    return list(dict.fromkeys(found))


def _looks_like_number(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 4) : match.start()]
    after = text[match.end() : match.end() + 4]
    return bool(_NUMBER_BEFORE.search(before) or _NUMBER_AFTER.match(after))

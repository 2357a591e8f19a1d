"""Ids in URLs: ASCII digits within SQLite's integer range, read the same way everywhere.

`str.isdigit()` and `\\d` also accept digits of other scripts (`²`, `١`): `int("١")` is 1,
so /messages/%D9%A1 showed message 1, and `int("²")` raised (a 500). A number past SQLite's
64-bit integers cannot be an id either; binding one raised OverflowError (a 500 too).
"""

from __future__ import annotations

from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**63 - 1  # SQLite's largest INTEGER
_DIGITS = frozenset("0123456789")


def parse_id(text: str) -> int | None:
    """Return the id written as ASCII digits in SQLite's range, or None."""
    if not text or not set(text) <= _DIGITS:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


class IdConverter(BaseConverter):
    """The `<id:name>` URL converter: ASCII digits in range, else the route does not match."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed

    def to_url(self, value: object) -> str:
        return str(value)

"""Cutting lists of messages into batches: by count for queries, by bytes for raw reads.

Both stores use these (SQLite and PostgreSQL differ in SQL, not in how work is cut).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["chunks", "ids_within"]


def chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """Yield `ids` in slices of at most `size`."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def ids_within(sizes: Sequence[tuple[int, int]], max_bytes: int | None) -> list[int]:
    """Return the ids whose sizes add up to at most max_bytes (the first always)."""
    ids: list[int] = []
    total = 0
    for message_id, size in sizes:
        total += size
        if ids and max_bytes is not None and total > max_bytes:
            break
        ids.append(int(message_id))
    return ids

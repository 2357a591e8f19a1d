"""How many messages match a search, kept between requests and brought up to date.

Counting every match is most of a search's cost: a word in 60,000 of 100,000 messages takes
~20 ms to count in the trigram index and a phrase in 50,000 ~50 ms (bench/api.py on a
shared 2-core machine), against a few milliseconds for the newest 50. A live
inbox asks again after every burst of mail, for the same count plus the new mail. So a
count is kept with the newest id it covers, and the next request counts only the messages
past that id. Message ids only grow, so the count stays right until a message it covered
changes: any delete or prune, any change of flags or tags, and the indexing of a message
at or below a kept id (search rows appear then) make every kept count stale.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from mailtrap_lite.store.feed import Change, ChangeFeed
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.sqlite.search import count_sql

KEPT = 256  # counts kept, the least recently asked dropped first

# Counts the matches with ids above the first bound (None: from the first) up to the second.
Counter = Callable[[int | None, int], int]


@dataclass(frozen=True)
class Counted:
    """A kept count: the matches with ids up to `upto`, valid while `epoch` is current."""

    total: int
    upto: int
    epoch: int


class MatchCounts:
    """Kept counts by search (query and inbox), and what makes them stale."""

    def __init__(self, feed: ChangeFeed, kept: int = KEPT) -> None:
        self.kept = kept
        self.epoch = 0  # changes whenever kept counts may be wrong
        self._highest = 0  # the highest id a kept count covers
        self._entries: OrderedDict[Hashable, Counted] = OrderedDict()
        self._lock = threading.Lock()
        feed.subscribe(self._note_change)

    def count(
        self, conn: sqlite3.Connection, query: Query | None, inbox: str | None, after: int | None
    ) -> int:
        """Count the messages that match (newer than `after`); a search's count is kept."""
        if not query or after is not None:  # cheap without a query; `after` asks a few
            return int(conn.execute(*count_sql(query, inbox, after)).fetchone()[0])

        def between(above: int | None, upto: int) -> int:
            return int(conn.execute(*count_sql(query, inbox, above, upto + 1)).fetchone()[0])

        newest = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        return self.total((query, inbox), newest, between)

    def _note_change(self, change: Change) -> None:
        """Make kept counts stale on a committed change they may cover (the feed's)."""
        if change.kind in ("deleted", "pruned", "updated"):
            self.stale()
        elif change.kind == "indexed":
            self.indexed(change.ids)

    def total(self, key: Hashable, newest: int, count: Counter) -> int:
        """Return the matches up to id `newest`, counting only what a kept count lacks.

        The epoch is read before counting and changes only once a change is committed, so a
        change that lands meanwhile leaves a stale count here, never a wrong one.
        """
        epoch = self.epoch
        with self._lock:
            found = self._entries.get(key)
        if found is not None and found.epoch == epoch and found.upto <= newest:
            total = found.total + (count(found.upto, newest) if newest > found.upto else 0)
        else:
            total = count(None, newest)
        with self._lock:
            self._entries[key] = Counted(total, newest, epoch)
            self._entries.move_to_end(key)
            while len(self._entries) > self.kept:
                self._entries.popitem(last=False)
            self._highest = max(self._highest, newest)
        return total

    def stale(self) -> None:
        """Make every kept count stale (a message they cover changed or went)."""
        with self._lock:
            self.epoch += 1

    def indexed(self, ids: Sequence[int]) -> None:
        """Note that messages became searchable: stale if a kept count covers one of them."""
        if ids and min(ids) <= self._highest:
            self.stale()

"""Retention by age (--max-age): messages older than it are pruned in the background.

Pruning by count happens in the insert's own transaction; by age it cannot, since time
passes without mail. A thread looks every `interval` (a tenth of the age, between 1 s and a
minute) and prunes what has grown too old: counted as pruned, like --max-messages, with the
sessions that delivered only those messages.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.services.clock import Clock
from mailtrap_lite.store import StorageError, Store

log = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float:
    """Parse `90m`, `12h`, `3d` (also `s` and `w`, and sums such as `1d12h`) into seconds."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"expected a duration such as 90m, 12h or 3d, got {text!r}")
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"expected a duration above zero, got {text!r}")
    return seconds


class AgePruner:
    """A thread that prunes messages older than `max_age` seconds."""

    def __init__(self, store: Store, max_age: float, clock: Clock) -> None:
        self.store = store
        self.max_age = max_age
        self.clock = clock
        self.interval = min(max(max_age / 10, 1.0), 60.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailtrap-lite-max-age",
                                        daemon=True)  # fmt: skip

    def start(self) -> None:
        """Start pruning."""
        self._thread.start()

    def stop(self) -> None:
        """Stop pruning."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def prune(self) -> int:
        """Prune what is older than max_age now; return how many messages went.

        With several nodes on one database, one of them prunes each round (Store.take_turn).
        """
        now = self.clock.now()
        if not self.store.take_turn("max-age", now, self.interval):
            return 0
        cutoff = dt.datetime.fromtimestamp(now - self.max_age, dt.UTC)
        return self.store.prune_older_than(rfc3339(cutoff))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.prune()
            except StorageError:
                log.warning("cannot prune old messages; will retry", exc_info=True)
            if self.clock.wait(self._stop, self.interval):
                return

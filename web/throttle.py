"""Slowing down password guessing over HTTP basic auth, per client address.

Each wrong password from an address is remembered for a window of time; past the limit in
one window the address is refused (429, `Retry-After`) whatever it sends, the right password
included, until its oldest failure leaves the window. A guesser learns nothing from the
refusal, and one user who mistypes a few times is not affected. Memory is bounded: past
MAX_ADDRESSES the addresses with the oldest failures are forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class FailureLimit:
    """Failed logins per address within a sliding window; refuse an address past the limit."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Return the whole seconds until `address` may try again (0: it may try now)."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - self._clock()))

    def failed(self, address: str) -> int:
        """Record a failure of `address`; return how many it has within the window."""
        with self._lock:
            times = self._recent(address)
            times.append(self._clock())
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
            return len(times)

    def succeeded(self, address: str) -> None:
        """Forget the failures of an address that has just logged in."""
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.get(address, deque())
        cutoff = self._clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

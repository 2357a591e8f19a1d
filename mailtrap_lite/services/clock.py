"""Time for the background services, behind one small interface so tests can move it.

Webhook back-off and --max-age pruning wait for time to pass; tests give them a ManualClock
and move it forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time and waiting that a stop signal can cut short."""

    def now(self) -> float:
        """Return the time in seconds since the epoch."""
        return time.time()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds`; return True as soon as `stop` is set."""
        return stop.wait(max(seconds, 0.0))


class ManualClock(Clock):
    """A clock that moves only when told to (for tests): waits end when it passes them."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._moved = threading.Condition()

    def now(self) -> float:
        """Return the clock's time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake every wait that is now due."""
        with self._moved:
            self._now += seconds
            self._moved.notify_all()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait until the clock passes now + seconds, or `stop` is set."""
        deadline = self._now + max(seconds, 0.0)
        with self._moved:
            while self._now < deadline and not stop.is_set():
                # a short real wait, so that a stop set without advancing is seen promptly
                self._moved.wait(0.05)
        return stop.is_set()

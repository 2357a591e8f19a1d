"""The Store's change feed: numbered events that waiters, event streams and fixtures follow.

Publishing happens on the thread that committed; followers either block in `wait` (API waits,
the fixture's `wait_for`) or read `since(seq)` to resume an event stream. Nothing here knows
who follows, so storage never depends on the web layer.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Events kept for resuming streams (Last-Event-ID); older ones mean "reload".
HISTORY = 10_000


@dataclass(frozen=True)
class Change:
    """One committed change: message, indexed, deleted, pruned (by age), updated or session."""

    seq: int
    kind: str
    ids: tuple[int, ...]
    inbox: str | None = None
    # Committed by another node on the same database (PostgreSQL): followers that act once
    # per change (tag rules, webhooks) leave it to the node that made it.
    remote: bool = False


Listener = Callable[[Change], None]


class ChangeFeed:
    """A sequence of changes with blocking waits and a bounded history."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq = 0
        self._history: deque[Change] = deque(maxlen=HISTORY)
        self._listeners: list[Listener] = []

    @property
    def seq(self) -> int:
        """Return the number of the newest change."""
        return self._seq

    def publish(
        self, kind: str, ids: tuple[int, ...], inbox: str | None = None, *, remote: bool = False
    ) -> Change:
        """Record a change and wake everyone waiting for one."""
        with self._cond:
            self._seq += 1
            change = Change(self._seq, kind, ids, inbox, remote)
            self._history.append(change)
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            listener(change)
        return change

    def wait(
        self, after: int, timeout: float | None, cancelled: Callable[[], bool] | None = None
    ) -> int:
        """Block until a change newer than `after`, a wake-up or the timeout; return seq.

        Callers re-check what they wait for: a return does not promise a new change.
        `cancelled` is checked under the feed's lock, so a `wake_all` after it turns true
        is never missed.
        """
        with self._cond:
            if self._seq <= after and not (cancelled and cancelled()):
                self._cond.wait(timeout)
            return self._seq

    def since(self, after: int) -> list[Change] | None:
        """Return the changes newer than `after`, or None if some were already forgotten."""
        with self._cond:
            if after >= self._seq:
                return []
            if not self._history or self._history[0].seq > after + 1:
                return None
            return [c for c in self._history if c.seq > after]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every change (on the committing thread); return an undo."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def wake_all(self) -> None:
        """Wake every waiter without a change (used at shutdown so waits return promptly)."""
        with self._cond:
            self._cond.notify_all()

"""Caps on expensive requests, so that cheap ones always find a thread and a core.

Under WSGI every request holds a server thread until it is answered, and a search also holds
a core while SQLite scans: 70 concurrent searches made /api/v1/health wait 36 s. A Gate
admits at most `limit` requests of one kind at once and answers the others 503 with
`Retry-After` at once, instead of queueing them behind each other and everyone else. Open
waits and event streams have their own cap (api/live.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from werkzeug.exceptions import ServiceUnavailable

RETRY_AFTER = 1  # seconds a refused client is told to wait


class Gate:
    """At most `limit` requests of one kind at once; past it 503 (a limit of 0: no cap)."""

    def __init__(self, limit: int, kind: str) -> None:
        self.limit = limit
        self.kind = kind
        self._open = 0
        self._lock = threading.Lock()

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """Hold a place for the request's work, or raise 503 when every place is taken."""
        give_back = self.take()
        try:
            yield
        finally:
            give_back()

    def take(self) -> Callable[[], None]:
        """Take a place, or raise 503 when every place is taken; return what gives it back.

        For work that outlives the view (a streamed download): the response gives the place
        back when it is closed. Giving it back twice gives it back once.
        """
        with self._lock:
            if self.limit and self._open >= self.limit:
                raise ServiceUnavailable(
                    f"too many {self.kind} at once (at most {self.limit}); try again shortly",
                    retry_after=RETRY_AFTER,
                )
            self._open += 1
        given_back = threading.Event()

        def give_back() -> None:
            with self._lock:
                if not given_back.is_set():
                    given_back.set()
                    self._open -= 1

        return give_back

    def taken(self) -> int:
        """Return how many places are taken."""
        return self._open

"""Progress of an import or export: a bar on a terminal, plain lines otherwise, or nothing.

The bar is rich's (count, rate and time left); when stdout is not a terminal (CI logs, a
pipe) a plain line every few seconds says the same; --quiet shows neither. Every run ends
with one summary line.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from mailtrap_lite.transfer import Tally

PLAIN_EVERY = 5.0  # seconds between plain progress lines


class Reporter(Protocol):
    """Shows how far a run has come."""

    def update(self, tally: Tally) -> None:
        """Show the tally so far."""

    def close(self) -> None:
        """Leave the display (a bar stays on screen as it ended)."""


class Silent:
    """Shows nothing (--quiet)."""

    def update(self, tally: Tally) -> None:
        """Show nothing."""

    def close(self) -> None:
        """Nothing to leave."""


class PlainLines:
    """A line every PLAIN_EVERY seconds: `imported 5000 of 100000 (2400 msg/s)`."""

    def __init__(self, verb: str, total: int | None) -> None:
        self.verb, self.total = verb, total
        self.started = self.last = time.monotonic()

    def update(self, tally: Tally) -> None:
        """Print a line if the last one is old enough."""
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY:
            return
        self.last = now
        rate = tally.seen / max(now - self.started, 1e-6)
        of = f" of {self.total}" if self.total is not None else ""
        print(f"{self.verb} {tally.seen}{of} ({rate:.0f} msg/s)", flush=True)

    def close(self) -> None:
        """Nothing to leave."""


class Bar:
    """rich's progress bar with the count, the rate in messages a second and the time left."""

    def __init__(self, verb: str, total: int | None) -> None:
        from rich.progress import (  # imported only on a terminal: it costs ~50 ms
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(verb), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
        )  # fmt: skip
        self._task: Any = self._progress.add_task(verb, total=total, rate="")
        self._started = time.monotonic()
        self._progress.start()

    def update(self, tally: Tally) -> None:
        """Move the bar."""
        rate = tally.seen / max(time.monotonic() - self._started, 1e-6)
        self._progress.update(self._task, completed=tally.seen, rate=f"{rate:.0f} msg/s")

    def close(self) -> None:
        """Stop redrawing."""
        self._progress.stop()


def reporter(quiet: bool, verb: str, total: Callable[[], int | None]) -> Reporter:
    """Return the display for this run: nothing, a bar on a terminal, else plain lines."""
    if quiet:
        return Silent()
    if sys.stdout.isatty():
        return Bar(verb, total())
    return PlainLines(verb, total())


def summary(verb: str, tally: Tally, what: str = "") -> str:
    """Return the one-line summary: done, skipped, failed by reason, where it stopped."""
    line = f"{verb} {tally.done}{what}"
    if verb == "imported":
        line += f", skipped {tally.skipped} duplicates"
    if tally.failed or verb == "imported":
        kinds = Counter(f.kind for f in tally.failed)
        reasons = ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items()))
        line += f", failed {len(tally.failed)}" + (f" ({reasons})" if reasons else "")
    if tally.stopped_at is not None:
        line += f"; interrupted, stopped at {tally.stopped_at}"
    return line


def show_failure(failure: object) -> None:
    """Print one failure on stderr as it happens: where and why."""
    print(f"mailtrap-lite: skipped {failure}", file=sys.stderr, flush=True)

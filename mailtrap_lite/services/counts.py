"""What a server has done since it started, as Mailpit's `/api/v1/info` reports it.

Always on, whatever `--metrics` says: each event costs an addition under a lock. Messages
accepted (over SMTP or the send API, as Mailpit counts its own send API) and their bytes
are told by the SMTP side (SMTPObserver.accepted); deletions come from the change feed and
pruning from the Store's own count, so that `MessagesDeleted` holds both, as in Mailpit.
"""

from __future__ import annotations

import os
import threading
import time

from mailtrap_lite.smtp.observer import SMTPObserver, command_label
from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change

# A refusal of one of these is a rejected message (or recipient), as Mailpit counts them.
TRANSACTION_COMMANDS = frozenset({"MAIL", "RCPT", "DATA"})


class RuntimeCounts(SMTPObserver):
    """Counts since start: accepted messages and bytes, rejections, deletions, uptime."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.started = time.monotonic()
        self.accepted_messages = 0
        self.accepted_bytes = 0
        self.rejected = 0
        self.deleted = 0  # on request (the API, the UI, Mailpit's and MailHog's clients)
        self._pruned_before = store.stats()["pruned"]
        self._lock = threading.Lock()  # the SMTP loop and the send API's threads both count
        self._unsubscribe = store.feed.subscribe(self._on_change)

    def close(self) -> None:
        """Stop following the Store."""
        self._unsubscribe()

    def accepted(self, size: int) -> None:
        """Count a message committed and acknowledged."""
        with self._lock:
            self.accepted_messages += 1
            self.accepted_bytes += size

    def reply(self, command: str | None, text: str) -> None:
        """Count a refusal (4xx or 5xx) of MAIL, RCPT or DATA."""
        if text[:1] in ("4", "5") and command_label(command) in TRANSACTION_COMMANDS:
            with self._lock:
                self.rejected += 1

    def _on_change(self, change: Change) -> None:
        if change.kind == "deleted":
            with self._lock:
                self.deleted += len(change.ids)

    def deleted_or_pruned(self) -> int:
        """Return the messages deleted or pruned (--max-messages, --max-age) since start."""
        return self.deleted + self.store.stats()["pruned"] - self._pruned_before

    def uptime(self) -> int:
        """Return whole seconds since start."""
        return int(time.monotonic() - self.started)


def memory_in_use() -> int:
    """Return this process's resident memory in bytes (where the system does not say: 0).

    Linux gives the current figure (/proc/self/statm); elsewhere getrusage gives the peak,
    in KiB on most systems and in bytes on macOS.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource  # not on Windows
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if os.uname().sysname == "Darwin" else int(peak) * 1024

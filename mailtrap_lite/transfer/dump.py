"""Exporting: the messages that match a search, oldest first, into a writer, page by page.

Pages are bounded in count and bytes, so memory stays constant whatever the number of
messages; the sessions of the exported messages (with --sessions) come last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import StoredMessage
from mailtrap_lite.transfer.load import Progress, Tally, never
from mailtrap_lite.transfer.writers import Writer, session_line

PAGE = 500
PAGE_BYTES = 8 * 1024 * 1024


@dataclass
class Exporter:
    """Reads matching messages from a Store, oldest first, for a writer or a stream."""

    store: Store
    query: Query | None = None
    inbox: str | None = None
    sessions: bool = False
    progress: Progress | None = None
    stopping: Callable[[], bool] = never
    tally: Tally = field(default_factory=Tally)
    _session_ids: set[int] = field(default_factory=set)

    def total(self) -> int:
        """Return how many messages the export will write."""
        return self.store.count_messages(self.query, self.inbox)

    def messages(self) -> Iterator[StoredMessage]:
        """Yield every matching message, oldest first, until done or asked to stop."""
        after = 0
        while page := self.store.export_messages(self.query, self.inbox, after, PAGE,
                                                 PAGE_BYTES):  # fmt: skip
            for message in page:
                if self.stopping():
                    self.tally.stopped_at = f"message {message.id}"
                    return
                yield message
                self.tally.done += 1
                if message.session_id is not None:
                    self._session_ids.add(message.session_id)
            after = page[-1].id
            if self.progress is not None:
                self.progress(self.tally)

    def session_lines(self) -> Iterator[str]:
        """Yield the sessions of the messages exported so far, one JSON line each."""
        for session_id in sorted(self._session_ids):
            record = self.store.get_session(session_id)
            if record is not None:
                yield session_line(record)

    def run(self, writer: Writer) -> Tally:
        """Write every matching message (and their sessions); the writer is closed after."""
        try:
            for message in self.messages():
                writer.add(message)
            if self.sessions:
                writer.add_sessions(self.session_lines())
        finally:
            writer.close()
        return self.tally

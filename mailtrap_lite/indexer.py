"""Body indexing after the commit: snippet, attachment count, searchable text.

Full MIME parsing is the real cost of ingest (DESIGN.md), so it never runs before the 250:
a background thread follows the change feed and fills these fields in batches.
"""

from __future__ import annotations

import logging
import threading

from mailtrap_lite.parsing import decoded_headers, parse_body
from mailtrap_lite.store import IndexUpdate, Store

log = logging.getLogger(__name__)

BATCH = 64


def index_one(message_id: int, raw: bytes, max_text: int) -> IndexUpdate:
    """Parse one message body; a body that cannot be parsed is indexed as empty."""
    try:
        body = parse_body(raw)
    except Exception:  # hostile MIME must never stop the indexer
        log.warning("cannot parse the body of message %s", message_id, exc_info=True)
        return IndexUpdate(message_id, "", 0, "")
    return IndexUpdate(
        message_id,
        body.snippet(),
        sum(1 for a in body.attachments if not a.inline),
        body.searchable_text()[:max_text],
        decoded_headers(raw),
    )


class Indexer:
    """A thread that indexes new messages as the change feed announces them."""

    def __init__(self, store: Store, max_text: int = 1_048_576) -> None:
        self.store = store
        self.max_text = max_text
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailtrap-lite-indexer", daemon=True)

    def start(self) -> None:
        """Start following the feed."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the current batch and stop."""
        self._stopping.set()
        self.store.feed.wake_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def run_once(self) -> int:
        """Index one batch of pending messages; return how many were indexed."""
        pending = self.store.unindexed(BATCH)
        updates = [index_one(mid, raw, self.max_text) for mid, raw in pending]
        self.store.save_index(updates)
        return len(updates)

    def _run(self) -> None:
        feed = self.store.feed
        while not self._stopping.is_set():
            seen = feed.seq  # read before looking, so a commit in between still wakes us
            try:
                if self.run_once() or self.store.purge_search():
                    continue
            except Exception:  # storage trouble (disk full): retry at the next change
                log.warning("indexing failed; will retry", exc_info=True)
            feed.wait(seen, 5.0)

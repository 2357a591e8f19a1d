"""Body indexing after the commit: snippet, attachment count, searchable text.

Full MIME parsing is the real cost of ingest (DESIGN.md), so it never runs before the 250:
a background thread follows the change feed and fills these fields in batches. Parsing in
that thread took ~45 % of the GIL from the SMTP loop under load (measured with bench/ingest.py:
563 msg/s against 2,500 for bare aiosmtpd), so the server parses in a worker process instead;
the thread only moves bytes and writes results, and SQLite releases the GIL while it works.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

from mailtrap_lite.parsing import decoded_headers, parse_body
from mailtrap_lite.store import IndexUpdate, Store

log = logging.getLogger(__name__)

BATCH = 64


def start_worker(parent: int) -> None:
    """Set up the worker process: low CPU priority, and exit when the server dies.

    Indexing may lag behind a burst of mail, the 250 replies may not: at nice 10 the kernel
    gives the SMTP server (and its clients) the CPU first, and the worker the rest
    (measured with bench/ingest.py: the worker at normal priority halved 1 KB throughput on
    two cores).
    """
    with contextlib.suppress(OSError, AttributeError):  # not permitted, or not POSIX
        os.nice(10)
    watch_parent(parent)


def watch_parent(parent: int) -> None:
    """Exit the worker soon after its server dies, even by kill -9 (no orphan left behind)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def index_batch(pending: list[tuple[int, bytes]], max_text: int) -> list[IndexUpdate]:
    """Index a batch of (id, raw) messages (runs in the worker process when there is one)."""
    return [index_one(message_id, raw, max_text) for message_id, raw in pending]


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

    def __init__(self, store: Store, max_text: int = 1_048_576, worker: bool = False) -> None:
        self.store = store
        self.max_text = max_text
        self._pool: ProcessPoolExecutor | None = None
        if worker:
            # spawn, not fork: forking a process that runs threads can copy held locks.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
            )
        self._after = 0  # the last id indexed: everything older is done
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
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def run_once(self) -> int:
        """Index one batch of pending messages; return how many were indexed."""
        pending = self.store.unindexed(self._after, BATCH)
        if not pending:
            return 0
        if self._pool is None:
            updates = index_batch(pending, self.max_text)
        else:
            updates = self._pool.submit(index_batch, pending, self.max_text).result()
        self.store.save_index(updates)
        self._after = pending[-1][0]
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
            feed.wait(seen, 5.0, self._stopping.is_set)

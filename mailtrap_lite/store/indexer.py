"""Body indexing after the commit: snippet, attachment count, searchable text.

Full MIME parsing is the real cost of ingest (DESIGN.md), so it never runs before the 250:
a background thread follows the change feed and fills these fields in batches. Parsing in
that thread took ~45 % of the GIL from the SMTP loop under load (measured with bench/ingest.py:
563 msg/s against 2,500 for bare aiosmtpd), so the server parses in a worker process instead;
the thread only moves bytes and writes results, and SQLite releases the GIL while it works.
The worker parses the next batch while the thread writes the last one.

In-process sinks (tests) parse on the thread, through the Store's message cache, so that a
test reading a message and the indexer parse it once between them; and they wait while an
SMTP session is open (at most MAX_DEFER), so that parsing does not hold the GIL while the
SMTP loop answers the test's client.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mailtrap_lite.message import Message, read_message
from mailtrap_lite.mime.headers import SUMMARY_HEADER_BYTES, decoded_headers
from mailtrap_lite.store.folding import fold
from mailtrap_lite.store.interface import IndexUpdate, StorageError, Store

log = logging.getLogger(__name__)

BATCH = 64
# While SMTP is committing mail, the indexer pauses after each part it writes for as long as
# the part took, so it holds the writer at most half the time. SMTP commits do not wait for it
# meanwhile (GroupCommit tries again a moment later, serving sessions). At 1/(1+9) of the time,
# as before those commits stopped waiting, indexing fell behind ingest for good (87 msg/s
# against 1,450: bench/index_lag.py). A pause of half the part's time kept the lag lower still
# but cost a quarter of 1 KB ingest (bench/ingest.py 0.43 against 0.54 at this factor, whose
# lag stayed under 2 s in a 60 s burst); twice its time let the lag grow to 18 s.
YIELD_FACTOR = 1.0
BUSY_WINDOW = 1.0  # seconds since the last message commit that count as "SMTP is busy"
# In-process sinks: how long indexing waits for the open SMTP sessions to end.
MAX_DEFER = 0.1

# Raw bytes per batch: each batch is copied to the worker and parsed there in one go, so 64
# messages of 30 MB would take gigabytes; a single larger message still makes its own batch.
BATCH_BYTES = 8 * 1024 * 1024

# Address space of the indexing worker: a message that would need more is indexed as empty
# (MemoryError is caught like any parse failure) instead of taking the machine's memory.
WORKER_MEMORY = 2 * 1024 * 1024 * 1024


def start_worker(parent: int) -> None:
    """Set up the worker process: low CPU priority, bounded memory; exit when the server dies.

    Indexing may lag behind a burst of mail, the 250 replies may not: at nice 10 the kernel
    gives the SMTP server (and its clients) the CPU first, and the worker the rest
    (measured with bench/ingest.py: the worker at normal priority halved 1 KB throughput on
    two cores).
    """
    with contextlib.suppress(OSError, AttributeError):  # not permitted, or not POSIX
        os.nice(10)
    bound_memory()
    watch_parent(parent)


def bound_memory() -> None:
    """Cap the worker's address space at WORKER_MEMORY where the platform allows it."""
    try:
        import resource  # POSIX only

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        log.info("cannot bound the indexing worker's memory on this platform")


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


def index_one(
    message_id: int, raw: bytes, max_text: int, message: Message | None = None
) -> IndexUpdate:
    """Read one message as every surface does (the read model) and take what search needs.

    `message` is the message already read, if it is (the in-process message cache).
    """
    message = message or read_message(raw)
    if message.parse_error is not None:
        log.warning("cannot parse the body of message %s: %s", message_id, message.parse_error)
    return IndexUpdate(
        message_id,
        message.snippet,
        message.attachment_count,
        # Folded here, in the worker process, rather than by the writer holding its lock;
        # cut again after folding, which can lengthen text (ß -> ss, ligatures spelled out).
        fold(message.searchable_text(max_text))[:max_text],
        # header:Name=value searches the headers of the first SUMMARY_HEADER_BYTES: 2 million
        # headers took 500 MB in the server as search rows (tests/test_bombs.py).
        decoded_headers(raw, SUMMARY_HEADER_BYTES),
        [fold(a.filename) for a in message.attachments if a.filename],
    )


def _new_pool() -> ProcessPoolExecutor:
    """Start a one-process pool for parsing."""
    # spawn, not fork: forking a process that runs threads can copy held locks.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
    )


Batch = list[tuple[int, bytes]]
InFlight = tuple[Batch, "Future[list[IndexUpdate]]", ProcessPoolExecutor]


class Indexer:
    """A thread that indexes new messages as the change feed announces them.

    `busy` (in-process sinks) tells whether SMTP sessions are open: indexing waits for them
    to end, at most MAX_DEFER.
    """

    def __init__(
        self,
        store: Store,
        max_text: int = 1_048_576,
        worker: bool = False,
        busy: Callable[[], bool] | None = None,
    ) -> None:
        self.store = store
        self.max_text = max_text
        self.busy = busy
        self._pool = _new_pool() if worker else None
        self._in_flight: InFlight | None = None  # a batch the worker is parsing
        self._after = 0  # the last id indexed: everything older is done
        self._deferred_since: float | None = None
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
        if self._pool is None:
            pending = self._pending(self._after)
            updates = [self._index_here(message_id, raw) for message_id, raw in pending]
        else:
            pending, updates = self._from_worker()
        if not pending:
            return 0
        self.store.save_index(updates, self._yield)
        self._after = pending[-1][0]
        return len(updates)

    def _pending(self, after: int) -> Batch:
        return self.store.unindexed(after, BATCH, BATCH_BYTES)

    def _index_here(self, message_id: int, raw: bytes) -> IndexUpdate:
        """Index on this thread, reading the message through the Store's cache."""
        message = self.store.message_cache.get(message_id, lambda _: raw)
        return index_one(message_id, raw, self.max_text, message)

    def _from_worker(self) -> tuple[Batch, list[IndexUpdate]]:
        """Take the batch the worker parsed (or parse one now), the next one started first."""
        in_flight = self._in_flight or self._submit(self._pending(self._after))
        if in_flight is None:
            return [], []
        pending = in_flight[0]
        self._in_flight = self._submit(self._pending(pending[-1][0]))
        return pending, self._result(in_flight)

    def _submit(self, pending: Batch) -> InFlight | None:
        if not pending:
            return None
        assert self._pool is not None
        pool = self._pool
        try:
            return pending, pool.submit(index_batch, pending, self.max_text), pool
        except BrokenProcessPool:  # died since the last batch: its result will say so
            broken: Future[list[IndexUpdate]] = Future()
            broken.set_exception(BrokenProcessPool("the indexing worker died"))
            return pending, broken, pool

    def _result(self, in_flight: InFlight) -> list[IndexUpdate]:
        """Return the worker's result; if it died (killed, out of memory), start another.

        The batch is then retried one message at a time in fresh workers, and a message
        that kills a worker on its own is indexed as empty, so indexing never stalls.
        """
        pending, future, pool = in_flight
        try:
            return future.result()
        except (BrokenProcessPool, CancelledError):
            log.warning("the indexing worker died; starting another")
        if pool is self._pool:
            self._restart_worker()
        updates = []
        for message_id, raw in pending:
            try:
                assert self._pool is not None
                updates += self._pool.submit(
                    index_batch, [(message_id, raw)], self.max_text
                ).result()
            except BrokenProcessPool:
                log.warning("message %s kills the indexing worker; indexed as empty", message_id)
                updates.append(IndexUpdate(message_id, "", 0, ""))
                self._restart_worker()
        return updates

    def _restart_worker(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = _new_pool()

    def _yield(self, spent: float) -> None:
        """Leave the writer lock to the SMTP loop for a while when it is busy."""
        if time.monotonic() - self.store.last_message_at < BUSY_WINDOW:
            self._stopping.wait(spent * YIELD_FACTOR)

    def _purge(self) -> int:
        """Remove search rows of deleted messages, yielding to SMTP like indexing does."""
        started = time.monotonic()
        purged = self.store.purge_search()
        if purged:
            self._yield(time.monotonic() - started)
        return purged

    def _deferring(self) -> bool:
        """Say whether to wait for open SMTP sessions to end (in-process sinks, MAX_DEFER)."""
        if self.busy is None or not self.busy():
            self._deferred_since = None
            return False
        now = time.monotonic()
        if self._deferred_since is None:
            self._deferred_since = now
        if now - self._deferred_since < MAX_DEFER:
            return True
        self._deferred_since = None
        return False

    def _run(self) -> None:
        feed = self.store.feed
        while not self._stopping.is_set():
            seen = feed.seq  # read before looking, so a commit in between still wakes us
            if self._deferring():
                feed.wait(seen, MAX_DEFER / 2, self._stopping.is_set)  # a session end wakes us
                continue
            try:
                if self.run_once() or self._purge():
                    continue
            except StorageError as error:  # disk full, the file gone: retry at the next change
                log.warning("indexing failed: %s; will retry", error)
            except Exception:
                log.warning("indexing failed; will retry", exc_info=True)
            feed.wait(seen, 5.0, self._stopping.is_set)

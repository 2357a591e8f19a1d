"""What happens to each new message once it is searchable: tag rules, release rules, webhooks.

A `--tag NAME=QUERY` rule, `--relay-matching QUERY` and the webhook's summary all need the
search index (addresses, body text), which the indexer fills just after the commit. So the
Followers note each new message id from the change feed (on the committing thread: a deque
append) and handle it on their own thread once it is indexed, oldest first. A message the
indexer has not reached within INDEX_WAIT is handled all the same. Releases run on one more
thread, since a slow relay server must not hold up tags and webhooks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from mailtrap_lite.smtp.relay import Relay, RelayRefused
from mailtrap_lite.store import StorageError, Store
from mailtrap_lite.store.feed import Change
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord

log = logging.getLogger(__name__)

INDEX_WAIT = 30.0  # seconds a new message waits for the indexer before it is handled anyway
MAX_PENDING = 100_000  # ids noted and not yet handled; past it the oldest are forgotten
MAX_RELEASES = 1000  # automatic releases waiting; past it the oldest are skipped

Summarize = Callable[[MessageRecord], dict[str, Any]]


class Followers:
    """A thread that applies rules to new messages and hands them to webhooks."""

    def __init__(
        self,
        store: Store,
        *,
        tag_rules: list[tuple[str, Query]],
        relay: Relay | None = None,
        relay_matching: Query | None = None,
        webhooks: Any = None,  # mailtrap_lite.services.webhooks.Webhooks
        summarize: Summarize | None = None,
    ) -> None:
        self.store = store
        self.tag_rules = tag_rules
        self.relay = relay if relay_matching is not None else None
        self.relay_matching = relay_matching
        self.webhooks = webhooks
        self.summarize = summarize
        self._pending: deque[tuple[int, float]] = deque(maxlen=MAX_PENDING)
        self._releases: deque[tuple[int, list[str]]] = deque(maxlen=MAX_RELEASES)
        self._stop = threading.Event()
        self._release_ready = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name="mailtrap-lite-followers", daemon=True),
            threading.Thread(target=self._run_releases, name="mailtrap-lite-releases",
                             daemon=True),
        ]  # fmt: skip
        self._unsubscribe = store.feed.subscribe(self._note)

    def start(self) -> None:
        """Start following."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop following; a release in flight finishes first."""
        self._unsubscribe()
        self._stop.set()
        self._release_ready.set()
        self.store.feed.wake_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(35)

    def _note(self, change: Change) -> None:
        # Mail another node committed is that node's to tag, release and post to webhooks:
        # with several nodes on one database each message is handled once.
        if change.kind == "message" and not change.remote:
            now = time.monotonic()
            self._pending.extend((message_id, now) for message_id in change.ids)

    def _run(self) -> None:
        feed = self.store.feed
        while not self._stop.is_set():
            seen = feed.seq  # before looking: an index commit in between still wakes us
            try:
                ready = self._take_ready()
                if ready:
                    self.handle(ready)
                    continue
            except StorageError:
                log.warning("cannot apply rules to new messages; will retry", exc_info=True)
            feed.wait(seen, 1.0, self._stop.is_set)

    def _take_ready(self) -> list[MessageRecord]:
        """Take the oldest noted messages that are indexed (or waited long enough)."""
        ready: list[MessageRecord] = []
        while self._pending:
            message_id, noted = self._pending[0]
            record = self.store.get_message(message_id)
            if record is not None and not record.indexed:
                if time.monotonic() - noted < INDEX_WAIT:
                    break
            self._pending.popleft()
            if record is not None:
                ready.append(record)
        return ready

    def handle(self, records: list[MessageRecord]) -> None:
        """Apply the tag rules, queue matching releases, then post to the webhooks."""
        ids = [r.id for r in records]
        for name, query in self.tag_rules:
            self.store.add_tags(self.store.matching_ids(query, ids), [name])
        if self.relay is not None and self.relay_matching is not None:
            matched = set(self.store.matching_ids(self.relay_matching, ids))
            for record in records:
                if record.id in matched:
                    self._queue_release(record)
        if self.webhooks is not None and self.summarize is not None:
            for message_id in ids:
                fresh = self.store.get_message(message_id)  # with the tags just added
                if fresh is not None:
                    body = json.dumps(self.summarize(fresh)).encode()
                    self.webhooks.enqueue(message_id, body)

    def _queue_release(self, record: MessageRecord) -> None:
        assert self.relay is not None
        recipients = [r for r in record.rcpt_to if r not in self.relay.refused(record.rcpt_to)]
        if recipients:
            self._releases.append((record.id, recipients))
            self._release_ready.set()

    def _run_releases(self) -> None:
        while not self._stop.is_set():
            self._release_ready.clear()
            while self._releases and not self._stop.is_set():
                message_id, recipients = self._releases.popleft()
                self._release(message_id, recipients)
            self._release_ready.wait(1.0)

    def _release(self, message_id: int, recipients: list[str]) -> None:
        assert self.relay is not None
        try:
            outcome = self.relay.release(message_id, recipients)
        except (RelayRefused, LookupError, StorageError) as error:
            log.warning("automatic release of message %s: %s", message_id, error)
            return
        if not outcome.ok:
            log.warning("automatic release of message %s failed: %s", message_id, outcome.reply)

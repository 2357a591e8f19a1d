"""Reports of stored messages, computed on first use and kept: a message never changes.

Ids are never reused (the Store's promise), so a kept report never goes stale (a report
whose SMTP session is still open is not kept: the session's counts may grow); deleted
messages are forgotten through the change feed. The offline checks and SpamAssassin's are
kept apart: the inbox list's badge needs only the first (cheap, no network), and asks
spamd nothing; the full report adds the spam score, asked once per message.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from mailtrap_lite.checks.mail import CheckedMail, Envelope
from mailtrap_lite.checks.report import FAIL, Report
from mailtrap_lite.store import Store
from mailtrap_lite.store.feed import Change

if TYPE_CHECKING:  # the checks themselves load DKIM, DNS and crypto: 0.15-0.5 s at import
    from mailtrap_lite.checks.checker import Checker
    from mailtrap_lite.checks.spam import SpamOutcome

T = TypeVar("T")

# Reports kept (each a few KB); the least recently read are dropped past it.
MAX_REPORTS = 2000


class StoredReports:
    """The deliverability report of each stored message, by id."""

    def __init__(
        self,
        store: Store,
        checker: Checker | None = None,
        max_reports: int = MAX_REPORTS,
        make_checker: Callable[[], Checker] | None = None,
    ) -> None:
        """Keep the reports of `store`'s messages, checked by `checker`.

        Or by the checker `make_checker()` returns on first use: a test suite that never
        reads a report then never loads the checks (DKIM, DNS and crypto libraries, 0.15-0.5 s).
        """
        if checker is None and make_checker is None:
            raise TypeError("StoredReports needs a checker or make_checker")
        self.store = store
        self._checker = checker
        self._make_checker = make_checker
        self.max_reports = max_reports
        self.computed = 0  # offline reports computed (a second look at one does not count)
        self._lock = threading.Lock()
        self._offline: OrderedDict[int, Report] = OrderedDict()
        self._spam: OrderedDict[int, SpamOutcome] = OrderedDict()
        self._busy: dict[int, list[Any]] = {}  # message id -> [its lock, threads using it]
        store.feed.subscribe(self._forget_deleted)

    @property
    def checker(self) -> Checker:
        """Return the checker (made now on first use if it came as `make_checker`)."""
        with self._lock:
            if self._checker is None:
                assert self._make_checker is not None
                self._checker = self._make_checker()
            return self._checker

    def report(self, message_id: int) -> Report | None:
        """Return the whole report (SpamAssassin's checks included when configured), or None."""
        offline = self._offline_report(message_id)
        spam = self.spam(message_id) if offline is not None else None
        if offline is None or spam is None:
            return None
        return offline.with_checks(list(spam.checks))

    def spam(self, message_id: int) -> SpamOutcome | None:
        """Return what spamd said of a message (asked once; a failure to reach it is not kept)."""
        found = self._kept(self._spam, message_id)
        if found is not None:
            return found
        if self.checker.spamd is None:  # nothing to ask: no need to read the message
            return self.checker.spam(b"")
        with self._computing(message_id):  # views of one message at once ask spamd once
            found = self._kept(self._spam, message_id)
            if found is not None:
                return found
            raw = self.store.raw(message_id)
            if raw is None:
                return None
            found = self.checker.spam(raw)
            if found.keep:
                self._keep(self._spam, message_id, found)
            return found

    def failures(self, message_id: int) -> int:
        """Return how many checks fail, without asking spamd (its verdict counts once known)."""
        offline = self._offline_report(message_id)
        return 0 if offline is None else self._failing(offline, message_id)

    def known_failures(self, message_id: int) -> int | None:
        """Return how many checks fail if the report is kept already, else None (no work).

        A list page of new mail would otherwise compute a report per row (~20 ms each)
        before it is sent; it shows the known counts and its script asks for the others.
        """
        offline = self._kept(self._offline, message_id)
        if offline is None:
            return None
        return self._failing(offline, message_id)

    def _failing(self, offline: Report, message_id: int) -> int:
        spam = self._kept(self._spam, message_id)
        spam_checks = spam.checks if spam is not None else ()
        return len(offline.failures) + sum(1 for found in spam_checks if found.status == FAIL)

    def _offline_report(self, message_id: int) -> Report | None:
        found = self._kept(self._offline, message_id)
        if found is not None:
            return found
        with self._computing(message_id):  # views of one message at once compute it once
            found = self._kept(self._offline, message_id)
            return found if found is not None else self._compute(message_id)

    @contextmanager
    def _computing(self, message_id: int) -> Iterator[None]:
        """Hold the lock of one message's report while it is computed."""
        with self._lock:
            held = self._busy.setdefault(message_id, [threading.Lock(), 0])
            held[1] += 1
        try:
            with held[0]:
                yield
        finally:
            with self._lock:
                held[1] -= 1
                if not held[1]:
                    del self._busy[message_id]

    def _compute(self, message_id: int) -> Report | None:
        mail = self._mail(message_id)
        if mail is None:
            return None
        report = Report.of(self.checker.offline_checks(mail))
        with self._lock:
            self.computed += 1
        # The session's recipients and messages still grow while it is open: keep the
        # report once they are final.
        if mail.session is None or mail.session.ended_at is not None:
            self._keep(self._offline, message_id, report)
        return report

    def _mail(self, message_id: int) -> CheckedMail | None:
        """Gather what the checks read: bytes, read model, envelope and session."""
        record = self.store.get_message(message_id)
        raw = self.store.raw(message_id) if record is not None else None
        message = self.store.read_message(message_id) if raw is not None else None
        if record is None or raw is None or message is None:
            return None
        session = self.store.get_session(record.session_id) if record.session_id else None
        envelope = Envelope(record.mail_from, tuple(record.rcpt_to), tuple(record.mail_options))
        received = dt.datetime.fromisoformat(record.received_at.replace("Z", "+00:00"))
        return CheckedMail.of(raw, message, received, envelope, session)

    def _kept(self, entries: OrderedDict[int, T], message_id: int) -> T | None:
        with self._lock:
            found = entries.get(message_id)
            if found is not None:
                entries.move_to_end(message_id)
            return found

    def _keep(self, entries: OrderedDict[int, T], message_id: int, value: T) -> None:
        with self._lock:
            entries[message_id] = value
            while len(entries) > self.max_reports:
                entries.popitem(last=False)

    def _forget_deleted(self, change: Change) -> None:
        if change.kind != "deleted":
            return
        with self._lock:
            for message_id in change.ids:
                self._offline.pop(message_id, None)
                self._spam.pop(message_id, None)

"""One test's view of a running sink: its messages, waits and assertions. No pytest here.

A message belongs to the test during which it was acknowledged: the view remembers the
sink's cursor (newest message and session ids) when the test began and shows only newer
messages. One that came over an SMTP session opened before the test began (a pooled
connection, a slow worker) still counts, with an EarlierSessionWarning naming the test in
which that session began.
"""

from __future__ import annotations

import time
import warnings
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, Literal, Unpack, overload

from mailtrap_lite.checks import Report
from mailtrap_lite.smtp.faults import FaultRule, FaultRules, make_rule
from mailtrap_lite.store.records import MessageRecord
from mailtrap_lite.testing.backends import Backend, Cursor, HasBackend
from mailtrap_lite.testing.captured import CapturedMessage
from mailtrap_lite.testing.failures import (
    MailAssertionError,
    expectation,
    ignored,
    report,
    table,
    undeliverable,
)
from mailtrap_lite.testing.matching import FilterArgs, MessageFilter

DEFAULT_TIMEOUT = 5.0


class EarlierSessionWarning(UserWarning):
    """A message of this test came over an SMTP session that began in an earlier test."""


class UnclaimedMailWarning(UserWarning):
    """Mail was acknowledged after one test ended and before the next began: no test sees it."""


def warn_unclaimed(backend: Backend, ended: str, after: int, start: Cursor, test: str) -> None:
    """Warn about messages newer than `after` (the end of test `ended`) up to `start`."""
    if start.message_id <= after:
        return
    found = [r for r in backend.records(after) if r.id <= start.message_id]
    if not found:
        return
    listed = ", ".join(f"#{r.id} {r.subject!r}" for r in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    warnings.warn(
        UnclaimedMailWarning(
            f"{len(found)} message(s) arrived after {ended} ended and before {test} began,"
            f" so no test sees them: {listed}{more} (sent in the background after a test?)"
        ),
        stacklevel=2,
    )


class Timeline:
    """Which test was running when each SMTP session began (session ids increase)."""

    def __init__(self) -> None:
        self._bounds: list[int] = []
        self._names: list[str] = []

    def begin(self, name: str, cursor: Cursor) -> None:
        """Note that test `name` begins now; later sessions began during it."""
        self._bounds.append(cursor.session_id)
        self._names.append(name)

    def test_of_session(self, session_id: int) -> str | None:
        """Return the test during which this session began, or None (before any test)."""
        index = bisect_left(self._bounds, session_id) - 1
        return self._names[index] if index >= 0 else None


class SinkView:
    """The messages a sink acknowledged since `start`, with waits and assertions."""

    def __init__(
        self,
        sink: HasBackend,
        start: Cursor | None = None,
        *,
        test: str = "this test",
        timeline: Timeline | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ui_url: str | None = None,
    ) -> None:
        self.sink = sink
        self.backend = sink.backend
        self.start = start if start is not None else self.backend.cursor()
        self.test = test
        self.timeline = timeline
        self.timeout = timeout
        self.ui_url = ui_url
        self._floor = self.start.message_id
        self._cache: dict[int, CapturedMessage] = {}
        self._loaded: list[CapturedMessage] = []
        self._loaded_at: int | None = None  # the backend's version when _loaded was read
        self._warned: set[int] = set()
        self._faults_added: list[FaultRule] = []

    def __repr__(self) -> str:
        return f"<SinkView {self.host}:{self.port} for {self.test}>"

    @property
    def host(self) -> str:
        """Return the host the code under test should send mail to."""
        return self.backend.host

    @property
    def port(self) -> int:
        """Return the port the code under test should send mail to."""
        return self.backend.port

    @property
    def credentials(self) -> tuple[str, str] | None:
        """Return the SMTP AUTH (user, password) mail must be sent with (external mode)."""
        return self.backend.credentials

    @property
    def messages(self) -> list[CapturedMessage]:
        """Return this test's messages, oldest first."""
        version = self.backend.version()
        if version is None or version != self._loaded_at:  # the store may have changed
            records = self.backend.records(self._floor)
            self._loaded = [self._captured(r) for r in records]
            self._loaded_at = version
            self._warn_about_earlier_sessions(self._loaded)
        return list(self._loaded)

    def _captured(self, record: MessageRecord) -> CapturedMessage:
        cached = self._cache.get(record.id)
        if cached is None:
            cached = self._cache[record.id] = CapturedMessage(record, self.backend.source())
        else:
            cached.record = record  # flags and indexing may have changed; the bytes have not
        return cached

    def _newest_loaded(self) -> int:
        return self._loaded[-1].id if self._loaded else self._floor

    def filter(self, **filters: Unpack[FilterArgs]) -> list[CapturedMessage]:
        """Return this test's messages that match the filters, oldest first."""
        flt = MessageFilter(**filters)
        return [m for m in self.messages if flt(m)]

    def clear(self) -> None:
        """Forget the messages so far: later calls see only mail acknowledged after this."""
        self._floor = self.backend.cursor().message_id
        self._cache.clear()
        self._loaded, self._loaded_at = [], None

    # -- waiting ---------------------------------------------------------------------------

    def _poll(self, flt: MessageFilter, count: int, timeout: float) -> list[CapturedMessage]:
        """Wait until `count` messages match or the time is up; return the matches."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.backend.version()  # read before looking, so no change is missed
            found = [m for m in self.messages if flt(m)]
            remaining = deadline - time.monotonic()
            if len(found) >= count or remaining <= 0:
                return found
            self.backend.wait(version, self._newest_loaded(), remaining)

    async def _poll_async(
        self, flt: MessageFilter, count: int, timeout: float
    ) -> list[CapturedMessage]:
        """Like _poll, without blocking the running event loop."""
        deadline = time.monotonic() + timeout
        while True:
            version = self.backend.version()
            found = [m for m in self.messages if flt(m)]
            remaining = deadline - time.monotonic()
            if len(found) >= count or remaining <= 0:
                return found
            await self.backend.wait_async(version, self._newest_loaded(), remaining)

    @overload
    def wait_for(  # type: ignore[overload-overlap]
        self, count: Literal[1] = 1, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage: ...

    @overload
    def wait_for(
        self, count: int, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> list[CapturedMessage]: ...

    def wait_for(
        self, count: int = 1, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage | list[CapturedMessage]:
        """Wait for `count` matching messages; return the first (count=1) or the first `count`."""
        __tracebackhide__ = True
        flt, limit = MessageFilter(**filters), self._timeout(timeout)
        return self._arrived(flt, count, limit, self._poll(flt, count, limit))

    @overload
    async def wait_for_async(  # type: ignore[overload-overlap]
        self, count: Literal[1] = 1, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage: ...

    @overload
    async def wait_for_async(
        self, count: int, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> list[CapturedMessage]: ...

    async def wait_for_async(
        self, count: int = 1, timeout: float | None = None, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage | list[CapturedMessage]:
        """Await `count` matching messages without blocking the event loop."""
        __tracebackhide__ = True
        flt, limit = MessageFilter(**filters), self._timeout(timeout)
        return self._arrived(flt, count, limit, await self._poll_async(flt, count, limit))

    def _timeout(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else timeout

    def _arrived(
        self, flt: MessageFilter, count: int, timeout: float, found: list[CapturedMessage]
    ) -> CapturedMessage | list[CapturedMessage]:
        __tracebackhide__ = True
        if len(found) < count:
            wanted = expectation("expected ", count, flt)
            headline = f"{wanted} within {timeout:g} s, found {len(found)}"
            raise MailAssertionError(report(headline, self.messages, flt) + self._hint())
        return found[0] if count == 1 else found[:count]

    # -- assertions ------------------------------------------------------------------------

    @overload
    def assert_sent(  # type: ignore[overload-overlap]
        self, count: Literal[1] = 1, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage: ...

    @overload
    def assert_sent(self, count: int, **filters: Unpack[FilterArgs]) -> list[CapturedMessage]: ...

    def assert_sent(
        self, count: int = 1, **filters: Unpack[FilterArgs]
    ) -> CapturedMessage | list[CapturedMessage]:
        """Check that exactly `count` matching messages are here; return it (count=1) or them."""
        __tracebackhide__ = True
        flt = MessageFilter(**filters)
        arrived = self.messages
        found = [m for m in arrived if flt(m)]
        if len(found) != count:
            headline = f"{expectation('expected exactly ', count, flt)}, found {len(found)}"
            raise MailAssertionError(report(headline, arrived, flt) + self._hint())
        return found[0] if count == 1 else found

    def assert_not_sent(self, within: float = 0.0, **filters: Unpack[FilterArgs]) -> None:
        """Check that no matching message is here now, nor arrives within `within` seconds."""
        __tracebackhide__ = True
        flt = MessageFilter(**filters)
        self._refuse(flt, within, self._poll(flt, 1, within))

    async def assert_not_sent_async(
        self, within: float = 0.0, **filters: Unpack[FilterArgs]
    ) -> None:
        """Like assert_not_sent, without blocking the event loop while waiting."""
        __tracebackhide__ = True
        flt = MessageFilter(**filters)
        self._refuse(flt, within, await self._poll_async(flt, 1, within))

    def _refuse(self, flt: MessageFilter, within: float, found: list[CapturedMessage]) -> None:
        __tracebackhide__ = True
        if not found:
            return
        criteria = flt.describe()
        wanted = "no message" + (f" matching {criteria}" if criteria else "")
        when = f" within {within:g} s" if within else ""
        lines = [f"expected {wanted}{when}, found {len(found)}:"]
        lines += ["  " + row for row in table(found)]
        raise MailAssertionError("\n".join(lines))

    def assert_deliverable(self, message: CapturedMessage, ignore: Iterable[str] = ()) -> Report:
        """Check that no deliverability check of `message` fails; return its report.

        `ignore` names checks to accept anyway: an id ("bulk.one-click"), a category
        ("spam") or a glob ("content.*"). The failure lists each failing check and why.
        """
        __tracebackhide__ = True
        found = message.checks()
        names = list(ignore)
        failing = [c for c in found.failures if not ignored(c, names)]
        if failing:
            raise MailAssertionError(undeliverable(message, failing))
        return found

    # -- reporting -------------------------------------------------------------------------

    def _hint(self) -> str:
        if self.credentials is None or self.messages:
            return ""
        user = self.credentials[0]
        return (
            f"\n(mail reaches this test only when sent with SMTP AUTH user {user!r};"
            " smtp_sink_env gives SMTP_USER and SMTP_PASSWORD)"
        )

    def _warn_about_earlier_sessions(self, found: list[CapturedMessage]) -> None:
        for message in found:
            session = message.session_id
            if session is None or session > self.start.session_id or message.id in self._warned:
                continue
            self._warned.add(message.id)
            began = self.timeline.test_of_session(session) if self.timeline else None
            where = f"in {began}" if began else "before the first test"
            warnings.warn(
                EarlierSessionWarning(
                    f"message #{message.id} {message.subject!r} counts for {self.test}, but its"
                    f" SMTP session #{session} began {where} (a reused connection?)"
                ),
                stacklevel=4,
            )

    def fault(
        self, stage: str, code: int | None = None, text: str | None = None, **options: Any
    ) -> FaultRule:
        """Inject an SMTP failure until this test ends: fault("rcpt", 550, to="*@bounce.test").

        Options: `to`/`match`, `from_`, `user` (globs), `times`, `probability`, `seed`,
        `delay_ms`, `drop` (see faults.make_rule). Returns the rule.
        """
        if "match" in options:
            options["to"] = options.pop("match")
        rule = make_rule(stage, code, text, **options)
        self._fault_rules().add(rule)
        self._faults_added.append(rule)
        return rule

    def _fault_rules(self) -> FaultRules:
        return self.backend.fault_rules()

    def finish(self) -> None:
        """Remove this test's faults; warn about mail from an earlier session not looked at."""
        for rule in self._faults_added:
            self._fault_rules().remove(rule)
        self._faults_added.clear()
        _ = self.messages

    def summary(self) -> str:
        """Return a listing of this test's mail for a test report."""
        found = self.messages
        where = f"sink {self.host}:{self.port}" + (f", ui {self.ui_url}" if self.ui_url else "")
        if not found:
            return f"no message captured during this test ({where})"
        lines = [f"{len(found)} message(s) captured during this test ({where}):"]
        lines += ["  " + row for row in table(found)]
        if self.ui_url:
            lines += [f"  #{m.id}: {self.ui_url}/messages/{m.id}" for m in found]
        return "\n".join(lines)

"""--max-age: messages older than it are pruned in the background, counted, with sessions."""

from __future__ import annotations

import pytest

from mailtrap_lite.services.clock import ManualClock
from mailtrap_lite.services.retention import AgePruner, parse_duration
from tests.apiserver import Served, make_message, store_message, until
from tests.backends import Backend

DAY = 86400.0


pytestmark = pytest.mark.backends


def test_old_messages_and_their_sessions_are_pruned_when_time_passes(backend: Backend) -> None:
    clock = ManualClock()
    with backend.settings() as database:
        _pruned_when_time_passes(Served(clock=clock, max_age=3 * DAY, **database), clock)


def _pruned_when_time_passes(served: Served, clock: ManualClock) -> None:
    try:
        served.send(make_message("old news"))
        session_id = served.get("/api/v1/messages").json()["messages"][0]["session_id"]
        until(lambda: served.get(f"/api/v1/sessions/{session_id}").json()["ended_at"])
        clock.advance(3 * DAY + 60)
        until(lambda: served.get("/api/v1/health").json()["pruned"] == 1)
        assert served.get("/api/v1/messages").json()["total"] == 0
        assert served.get(f"/api/v1/sessions/{session_id}").status == 404
    finally:
        served.stop()


def test_pruning_by_age_keeps_younger_messages(backend: Backend) -> None:
    clock = ManualClock(start=1_715_342_400.0)  # 2024-05-10T12:00:00Z
    with backend.store() as store:
        raw = b"Subject: s\r\n\r\nx\r\n"
        old = store_message(store, raw, received_at="2024-05-06T11:59:59.000Z")
        young = store_message(store, raw, received_at="2024-05-08T00:00:00.000Z")
        assert AgePruner(store, 4 * DAY, clock).prune() == 1
        assert [m.id for m in store.list_messages().messages] == [young]
        assert store.get_message(old) is None and store.stats()["pruned"] == 1


@pytest.mark.parametrize(("text", "seconds"), [("90m", 5400), ("12h", 43200), ("3d", 3 * DAY),
                                               ("1d12h", 1.5 * DAY), ("45s", 45), ("2w", 14 * DAY)])
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "d", "3x", "0h", "-1d", "3d extra"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)

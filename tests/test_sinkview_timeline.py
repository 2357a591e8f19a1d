"""Attributing SMTP sessions to the test during which they began (session ids increase)."""

from __future__ import annotations

import pytest

from mailtrap_lite.testing.backends import Cursor
from mailtrap_lite.testing.view import Timeline

# test name -> the newest session id when it began
STARTS = [("test_a", 0), ("test_b", 3), ("test_c", 3), ("test_d", 7)]


@pytest.mark.parametrize(
    ("session_id", "began_in"),
    [(1, "test_a"), (3, "test_a"), (4, "test_c"), (7, "test_c"), (8, "test_d"), (99, "test_d")],
)
def test_session_is_attributed_to_the_test_running_when_it_began(
    session_id: int, began_in: str
) -> None:
    timeline = Timeline()
    for name, newest in STARTS:
        timeline.begin(name, Cursor(message_id=0, session_id=newest))
    assert timeline.test_of_session(session_id) == began_in


def test_session_before_the_first_test_has_no_test() -> None:
    timeline = Timeline()
    timeline.begin("test_a", Cursor(message_id=0, session_id=5))
    assert timeline.test_of_session(5) is None

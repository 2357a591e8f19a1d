"""Testing against captured mail without pytest: an in-process Sink and a per-test SinkView.

The pytest plugin (mailtrap_lite.pytest_plugin) is a thin layer of fixtures over these.
"""

from mailtrap_lite.testing.backends import Cursor
from mailtrap_lite.testing.captured import (
    CapturedAttachment,
    CapturedMessage,
    ExtractionError,
    MessageGone,
)
from mailtrap_lite.testing.failures import MailAssertionError
from mailtrap_lite.testing.sink import Sink
from mailtrap_lite.testing.view import EarlierSessionWarning, SinkView, UnclaimedMailWarning

__all__ = [
    "CapturedAttachment",
    "CapturedMessage",
    "Cursor",
    "EarlierSessionWarning",
    "ExtractionError",
    "MailAssertionError",
    "MessageGone",
    "Sink",
    "SinkView",
    "UnclaimedMailWarning",
]

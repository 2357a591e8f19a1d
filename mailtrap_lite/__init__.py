"""mailtrap-lite: a catch-all SMTP sink that captures mail and SMTP sessions for people, tests."""

from mailtrap_lite.captured import CapturedMessage
from mailtrap_lite.config import Config
from mailtrap_lite.database import StorageError
from mailtrap_lite.faults import FaultError, FaultRule, FaultRules
from mailtrap_lite.records import MessageRecord, SessionRecord, TranscriptEntry
from mailtrap_lite.sinkview import SinkView
from mailtrap_lite.store import Store
from mailtrap_lite.testing import Sink

__version__ = "0.1.0"

__all__ = [
    "CapturedMessage",
    "Config",
    "FaultError",
    "FaultRule",
    "FaultRules",
    "MessageRecord",
    "SessionRecord",
    "Sink",
    "SinkView",
    "StorageError",
    "Store",
    "TranscriptEntry",
    "__version__",
]

"""mailtrap-lite: a catch-all SMTP sink that captures mail and SMTP sessions for people, tests.

The public names below load on first use, so that importing the package (and the pytest
plugin inside it) costs no SMTP, TLS, database or web library until something runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mailtrap_lite.version import __version__

if TYPE_CHECKING:
    from mailtrap_lite.config import Config
    from mailtrap_lite.smtp.faults import FaultError, FaultRule, FaultRules
    from mailtrap_lite.store import StorageError, Store
    from mailtrap_lite.store.records import MessageRecord, SessionRecord, TranscriptEntry
    from mailtrap_lite.testing import CapturedMessage, Sink, SinkView

_PUBLIC = {
    "CapturedMessage": "mailtrap_lite.testing",
    "Config": "mailtrap_lite.config",
    "FaultError": "mailtrap_lite.smtp.faults",
    "FaultRule": "mailtrap_lite.smtp.faults",
    "FaultRules": "mailtrap_lite.smtp.faults",
    "MessageRecord": "mailtrap_lite.store.records",
    "SessionRecord": "mailtrap_lite.store.records",
    "Sink": "mailtrap_lite.testing",
    "SinkView": "mailtrap_lite.testing",
    "StorageError": "mailtrap_lite.store",
    "Store": "mailtrap_lite.store",
    "TranscriptEntry": "mailtrap_lite.store.records",
}

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


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mailtrap_lite' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

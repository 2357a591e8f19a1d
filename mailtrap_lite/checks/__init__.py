"""Deliverability checks: would this mail be delivered, and shown as meant? (reads, writes nothing)

Each category is a module of pure functions over one message (`CheckedMail`: raw bytes, the
read model, the envelope and SMTP session when it was captured); `Checker` runs them all and
`StoredReports` keeps the report of each stored message.
"""

import importlib
from typing import TYPE_CHECKING, Any

from mailtrap_lite.checks.mail import CheckedMail, Envelope
from mailtrap_lite.checks.report import CATEGORIES, FAIL, INFO, PASS, STATUSES, WARN, Check, Report
from mailtrap_lite.checks.stored import StoredReports

if TYPE_CHECKING:
    from mailtrap_lite.checks.checker import Checker
    from mailtrap_lite.checks.dkimkeys import KeyRing, read_key_option

# Loaded on first use (PEP 562): they bring DKIM, DNS and crypto libraries, 0.15-0.5 s, which a
# test suite reading reports and plain types alone never needs.
_LAZY = {"Checker": "mailtrap_lite.checks.checker", "KeyRing": "mailtrap_lite.checks.dkimkeys",
         "read_key_option": "mailtrap_lite.checks.dkimkeys"}  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import the checks' heavy names when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "CATEGORIES",
    "FAIL",
    "INFO",
    "PASS",
    "STATUSES",
    "WARN",
    "Check",
    "CheckedMail",
    "Checker",
    "Envelope",
    "KeyRing",
    "Report",
    "StoredReports",
    "read_key_option",
]

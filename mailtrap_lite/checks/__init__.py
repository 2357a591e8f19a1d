"""Deliverability checks: would this mail be delivered, and shown as meant? (reads, writes nothing)

Each category is a module of pure functions over one message (`CheckedMail`: raw bytes, the
read model, the envelope and SMTP session when it was captured); `Checker` runs them all and
`StoredReports` keeps the report of each stored message.
"""

from mailtrap_lite.checks.checker import Checker
from mailtrap_lite.checks.dkimkeys import KeyRing, read_key_option
from mailtrap_lite.checks.mail import CheckedMail, Envelope
from mailtrap_lite.checks.report import CATEGORIES, FAIL, INFO, PASS, STATUSES, WARN, Check, Report
from mailtrap_lite.checks.stored import StoredReports

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

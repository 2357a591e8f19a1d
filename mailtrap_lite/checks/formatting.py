"""Format: the header fields every message needs, MIME declarations, encodings, raw lines.

The raw-line findings are the message warnings the SMTP server records at ingest
(smtp/conformance.py), read here with their status and the RFC behind them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from mailtrap_lite.checks.encodings import encoding_problems
from mailtrap_lite.checks.mail import CheckedMail
from mailtrap_lite.checks.report import FAIL, INFO, PASS, WARN, Check, check, listed
from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.smtp.conformance import MAX_LINE, check_message

# RFC 5322 §3.6.4: msg-id = "<" id-left "@" id-right ">", no spaces inside.
_MSG_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_ADDR_SPEC = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
FUTURE_SLACK = dt.timedelta(hours=1)  # clocks drift; SpamAssassin's DATE_IN_FUTURE starts at 3 h
PAST_LIMIT = dt.timedelta(days=4)  # SpamAssassin DATE_IN_PAST_96_XX: 96 hours or more
RAW_RULES = {
    # warning code -> (check id, status, title when found, title when not, reference)
    "long-line": (
        "format.line-length",
        FAIL,
        "Lines longer than 998 octets",
        "Lines within 998 octets",
        "RFC 5322 §2.1.1; RFC 5321 §4.5.3.1.6",
    ),
    "bare-line-ending": (
        "format.line-endings",
        WARN,
        "Bare CR or LF line endings",
        "Lines end in CRLF",
        "RFC 5322 §2.3; RFC 5321 §2.3.8",
    ),
    "nul-byte": ("format.nul", FAIL, "NUL bytes in the message", "No NUL bytes", "RFC 5322 §3.5"),
}


def format_checks(mail: CheckedMail) -> list[Check]:
    """Return the header, MIME and raw-line checks of a message."""
    return [
        from_check(mail),
        message_id_check(mail),
        date_check(mail),
        mime_version_check(mail),
        transfer_encoding_check(mail),
        *raw_line_checks(mail),
        *structure_checks(mail),
    ]


def from_check(mail: CheckedMail) -> Check:
    """Check for exactly one From header holding exactly one valid address."""
    ref = "RFC 5322 §3.6.2; RFC 7489 §6.6.1"
    fields = mail.message.header_values("From")
    if not fields:
        return check(
            "format.from",
            FAIL,
            "No From header",
            "Every message needs a From header; receivers refuse mail without one.",
            "RFC 5322 §3.6",
        )
    if len(fields) > 1 or len(mail.from_boxes) > 1:
        return check(
            "format.from",
            FAIL,
            "More than one From address",
            f"From: {'; '.join(fields)}. DMARC receivers reject messages whose From"
            " holds several addresses or appears more than once.",
            ref,
        )
    address = mail.from_boxes[0].address if mail.from_boxes else ""
    if not _ADDR_SPEC.match(address):
        return check(
            "format.from",
            FAIL,
            "From address is not valid",
            f"From: {fields[0]} has no usable address with a domain.",
            ref,
        )
    return check("format.from", PASS, "From address is valid", f"From: {fields[0]}", ref)


def message_id_check(mail: CheckedMail) -> Check:
    """Check for exactly one well-formed Message-ID."""
    ref = "RFC 5322 §3.6.4"
    values = mail.message.header_values("Message-ID")
    if not values:
        return check(
            "format.message-id",
            FAIL,
            "No Message-ID header",
            "Gmail refuses messages without a valid Message-ID, and threads and replies need it.",
            f"{ref}; Gmail sender guidelines",
        )
    if len(values) > 1:
        return check(
            "format.message-id",
            FAIL,
            "More than one Message-ID header",
            f"Message-ID appears {len(values)} times; RFC 5322 §3.6 allows one.",
            ref,
        )
    if not _MSG_ID.match(values[0].strip()):
        return check(
            "format.message-id",
            FAIL,
            "Message-ID is malformed",
            f"Message-ID: {values[0]} is not <left@right>.",
            ref,
        )
    return check("format.message-id", PASS, "Message-ID is well formed", values[0], ref)


def date_check(mail: CheckedMail) -> Check:
    """Check for exactly one valid Date, not far in the future or past."""
    ref = "RFC 5322 §3.3, §3.6.1"
    values = mail.message.header_values("Date")
    if not values:
        return check(
            "format.date",
            FAIL,
            "No Date header",
            "Every message needs a Date header (the origination date).",
            ref,
        )
    if len(values) > 1:
        return check(
            "format.date",
            FAIL,
            "More than one Date header",
            f"Date appears {len(values)} times; RFC 5322 §3.6 allows one.",
            ref,
        )
    when = _parse_date(values[0])
    if when is None:
        return check(
            "format.date",
            FAIL,
            "Date is not valid",
            f"Date: {values[0]} is not an RFC 5322 date.",
            ref,
        )
    return _date_distance(values[0], when, mail.received_at)


def _date_distance(text: str, when: dt.datetime, received: dt.datetime) -> Check:
    ref = "RFC 5322 §3.6.1; SpamAssassin DATE_IN_FUTURE_*, DATE_IN_PAST_*"
    delta = when - received
    if delta > FUTURE_SLACK:
        return check(
            "format.date",
            WARN,
            "Date is in the future",
            f"Date: {text} is {_span(delta)} after the message arrived.",
            ref,
        )
    if -delta > PAST_LIMIT:
        return check(
            "format.date",
            WARN,
            "Date is far in the past",
            f"Date: {text} is {_span(-delta)} before the message arrived.",
            ref,
        )
    return check("format.date", PASS, "Date is valid", f"Date: {text}", "RFC 5322 §3.3")


def _parse_date(text: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _span(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def mime_version_check(mail: CheckedMail) -> Check:
    """Check that a message that uses MIME says MIME-Version: 1.0."""
    ref = "RFC 2045 §4"
    uses_mime = any(
        mail.message.header_values(name) for name in ("Content-Type", "Content-Transfer-Encoding")
    )
    version = mail.header("MIME-Version")
    if version is None and uses_mime:
        return check(
            "format.mime-version",
            WARN,
            "MIME used without MIME-Version",
            "The message has Content-Type or Content-Transfer-Encoding but no"
            " MIME-Version: 1.0 header.",
            ref,
        )
    if version is not None and re.sub(r"\([^)]*\)|\s", "", version) != "1.0":
        return check(
            "format.mime-version", WARN, "MIME-Version is not 1.0", f"MIME-Version: {version}", ref
        )
    if version is None:
        return check(
            "format.mime-version",
            INFO,
            "Not a MIME message",
            "Plain RFC 5322 text: no MIME headers, none needed.",
            ref,
        )
    return check("format.mime-version", PASS, "MIME-Version: 1.0", "", ref)


def transfer_encoding_check(mail: CheckedMail) -> Check:
    """Check that each part's Content-Transfer-Encoding matches what it holds."""
    ref = "RFC 2045 §6; RFC 2045 §2.7"
    problems = encoding_problems(mail.message)
    shown = listed([p.text for p in problems])
    if any(not p.minor for p in problems):
        title = "Transfer encoding does not match the content"
        return check("format.transfer-encoding", WARN, title, shown, ref)
    if problems:
        title = "Quoted-printable lines over 76 characters"
        detail = f"{shown}. Harmless in practice (SpamAssassin MIME_QP_LONG_LINE scores 0.001)."
        return check("format.transfer-encoding", INFO, title, detail, ref)
    return check("format.transfer-encoding", PASS, "Transfer encodings match the content", "", ref)


def raw_line_checks(mail: CheckedMail) -> list[Check]:
    """Return the line-length, line-ending and NUL checks (the server's ingest warnings)."""
    options = list(mail.envelope.mail_options) if mail.envelope else []
    found = {w.code: w.message for w in check_message(mail.raw, options, parse_summary(mail.raw))}
    checks = []
    for code, (check_id, status, bad, good, ref) in RAW_RULES.items():
        if code in found:
            checks.append(check(check_id, status, bad, found[code], ref))
        else:
            checks.append(check(check_id, PASS, good, _good_detail(code), ref))
    return checks


def _good_detail(code: str) -> str:
    return f"At most {MAX_LINE} octets per line." if code == "long-line" else ""


def structure_checks(mail: CheckedMail) -> list[Check]:
    """Return a failing check when the MIME structure cannot be read (else nothing)."""
    if mail.message.parse_error is None:
        return []
    return [
        check(
            "format.structure",
            FAIL,
            "The MIME structure cannot be read",
            f"{mail.message.parse_error}. Mail clients may show it broken or empty.",
            "RFC 2045; RFC 2046",
        )
    ]

"""Bulk-sender rules: what Gmail and Yahoo require of bulk mail since February 2024.

Mail looks like bulk when a header says it is list or bulk mail (List-Id, List-Unsubscribe,
Precedence: bulk/list/junk) or when its SMTP session addressed many recipients. Bulk mail
needs a one-click unsubscribe (RFC 8058): an https List-Unsubscribe URI, List-Unsubscribe-Post
and a valid DKIM signature covering both. The rules that bind every message (a valid From and
Message-ID, a text alternative) are the format and content checks.
"""

from __future__ import annotations

import re

from mailtrap_lite.checks.authentication import NO_KEY, VERIFIED, Signature
from mailtrap_lite.checks.mail import CheckedMail
from mailtrap_lite.checks.report import FAIL, INFO, PASS, Check, check

BULK_RECIPIENTS = 50  # distinct recipients of one session from which mail counts as bulk
BULK_PRECEDENCE = ("bulk", "list", "junk")
ONE_CLICK = "List-Unsubscribe=One-Click"
REF_RULES = "Gmail and Yahoo bulk-sender requirements (Feb 2024)"
_RCPT = re.compile(r"^RCPT\s+TO:\s*<([^>]*)>", re.IGNORECASE)
_URIS = re.compile(r"<([^>]*)>")


def bulk_checks(mail: CheckedMail, signatures: list[Signature]) -> list[Check]:
    """Return why the mail counts as bulk and the rules it must meet, or that it does not."""
    reasons = bulk_reasons(mail)
    if not reasons:
        return [
            check(
                "bulk.applies",
                INFO,
                "Not bulk mail",
                "No List-Id, List-Unsubscribe or Precedence: bulk header, and fewer than"
                f" {BULK_RECIPIENTS} recipients in its session: the bulk-sender rules do"
                " not apply.",
                REF_RULES,
            )
        ]
    return [
        check("bulk.applies", INFO, "Looks like bulk mail", "; ".join(reasons) + ".", REF_RULES),
        list_unsubscribe_check(mail),
        one_click_check(mail),
        unsubscribe_signed_check(signatures),
    ]


def bulk_reasons(mail: CheckedMail) -> list[str]:
    """Return what makes the mail look like bulk mail (empty: it does not)."""
    reasons = [
        f"it has a {name} header"
        for name in ("List-Id", "List-Unsubscribe")
        if mail.header(name) is not None
    ]
    precedence = (mail.header("Precedence") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        reasons.append(f"Precedence: {precedence}")
    recipients = session_recipients(mail)
    if recipients >= BULK_RECIPIENTS:
        reasons.append(f"its SMTP session addressed {recipients} recipients")
    return reasons


def session_recipients(mail: CheckedMail) -> int:
    """Return the distinct recipients of the mail's session (or of its envelope alone)."""
    found = {r.lower() for r in mail.envelope.rcpt_to} if mail.envelope else set()
    transcript = mail.session.transcript if mail.session is not None else None
    for entry in transcript or ():
        match = _RCPT.match(entry.line) if entry.direction == "client" else None
        if match:
            found.add(match.group(1).lower())
    return len(found)


def unsubscribe_uris(value: str) -> list[str]:
    """Return the URIs of a List-Unsubscribe value (RFC 2369 §2: <uri>, <uri>)."""
    return [uri.strip() for uri in _URIS.findall(value)]


def list_unsubscribe_check(mail: CheckedMail) -> Check:
    """Check for a List-Unsubscribe header with an https URI."""
    ref = f"RFC 8058 §3.1; RFC 2369 §3.2; {REF_RULES}"
    value = mail.header("List-Unsubscribe")
    if value is None:
        return check(
            "bulk.list-unsubscribe",
            FAIL,
            "No List-Unsubscribe header",
            "Bulk mail must offer one-click unsubscribe: List-Unsubscribe: <https://...>.",
            ref,
        )
    uris = unsubscribe_uris(value)
    if any(uri.lower().startswith("https://") for uri in uris):
        return check(
            "bulk.list-unsubscribe",
            PASS,
            "List-Unsubscribe has an https URI",
            f"List-Unsubscribe: {value}",
            ref,
        )
    return check(
        "bulk.list-unsubscribe",
        FAIL,
        "List-Unsubscribe has no https URI",
        f"List-Unsubscribe: {value}. One-click unsubscribe needs an https URI"
        " (a mailto: or http: URI alone does not do).",
        ref,
    )


def one_click_check(mail: CheckedMail) -> Check:
    """Check for List-Unsubscribe-Post: List-Unsubscribe=One-Click."""
    ref = f"RFC 8058 §3.1; {REF_RULES}"
    value = mail.header("List-Unsubscribe-Post")
    if value is not None and value.strip() == ONE_CLICK:
        return check(
            "bulk.one-click",
            PASS,
            "One-click unsubscribe is announced",
            f"List-Unsubscribe-Post: {ONE_CLICK}",
            ref,
        )
    shown = f"List-Unsubscribe-Post: {value}" if value is not None else "The header is missing"
    return check(
        "bulk.one-click",
        FAIL,
        "No List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        f"{shown}; it must be exactly {ONE_CLICK}.",
        ref,
    )


def unsubscribe_signed_check(signatures: list[Signature]) -> Check:
    """Check that a valid DKIM signature covers both unsubscribe headers (RFC 8058 §4)."""
    ref = f"RFC 8058 §4; {REF_RULES}"
    covering = [
        s for s in signatures if s.covers("list-unsubscribe") and s.covers("list-unsubscribe-post")
    ]
    if any(s.outcome == VERIFIED for s in covering):
        return check(
            "bulk.unsubscribe-signed",
            PASS,
            "Unsubscribe headers are DKIM-signed",
            "A verified DKIM signature covers List-Unsubscribe and List-Unsubscribe-Post.",
            ref,
        )
    if any(s.outcome == NO_KEY for s in covering):
        return check(
            "bulk.unsubscribe-signed",
            INFO,
            "Unsubscribe headers signed, key unknown",
            "A DKIM signature covers both headers; its key is not configured here,"
            " so it cannot be verified.",
            ref,
        )
    detail = (
        "No DKIM signature covers both List-Unsubscribe and List-Unsubscribe-Post"
        if not covering
        else "The signature covering them does not verify"
    )
    return check(
        "bulk.unsubscribe-signed",
        FAIL,
        "Unsubscribe headers not validly signed",
        f"{detail}; receivers then ignore one-click unsubscribe.",
        ref,
    )

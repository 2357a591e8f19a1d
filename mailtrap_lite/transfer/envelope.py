"""What an imported message was not given by SMTP: its envelope and when it was received.

`received_at` comes from the first of these that a message has (README, "Import and
export"): the source's own record (an mbox separator line, the time at the start of a
Maildir file name, Mailpit's or MailHog's `Created`), a `Delivery-Date` or `Delivered-Date`
header, the `Date` header, and last the time of the import. The envelope sender comes from
the source (mbox separator, MailHog's envelope), else `Return-Path`, else the From address;
the recipients from the source, else the To, Cc and Bcc headers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mailtrap_lite.mime.headers import (
    SUMMARY_HEADER_BYTES,
    Summary,
    headers_of,
    parse_date,
    parse_mailboxes,
    parse_summary,
    rfc3339,
)
from mailtrap_lite.smtp.conformance import check_message
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.transfer.items import Item

TIME_HEADERS = ("delivery-date", "delivered-date", "date")
# The checks of SMTP mail, less the one on SMTP parameters: a file has no MAIL command, so
# 8-bit data in it was never "sent without BODY=8BITMIME" (RFC 6152 §3 is about transport).
IMPORT_MAIL_OPTIONS: list[str] = ["BODY=8BITMIME"]


def new_message(
    item: Item, inbox: str, session_id: int | None, tags: Sequence[str] = ()
) -> NewMessage:
    """Build what the Store takes, with the same summary and warnings as SMTP mail.

    `tags` (checked names, `import --tag`) are stored with the message, in its commit.
    """
    summary = parse_summary(item.raw)
    headers = first_headers(item.raw)
    return NewMessage(
        raw=item.raw,
        mail_from=item.mail_from or _sender(headers, summary),
        rcpt_to=item.rcpt_to if item.rcpt_to is not None else _recipients(headers, summary),
        session_id=session_id,
        inbox=inbox,
        received_at=item.received_at or received_at(headers),
        summary=summary,
        warnings=check_message(item.raw, IMPORT_MAIL_OPTIONS, summary),
        tags=list(tags),
    )


def first_headers(raw: bytes) -> dict[str, str]:
    """Return the first value of each header (names lowercased), values still encoded."""
    first: dict[str, str] = {}
    for name, value in headers_of(raw, SUMMARY_HEADER_BYTES):
        first.setdefault(name.lower(), value)
    return first


def received_at(headers: dict[str, str]) -> str:
    """Return the first time the headers give (TIME_HEADERS order), else now; RFC 3339."""
    for name in TIME_HEADERS:
        found = parse_date(headers.get(name, ""))
        if found is not None:
            return found
    return rfc3339(dt.datetime.now(dt.UTC))


def _sender(headers: dict[str, str], summary: Summary) -> str:
    return_path = headers.get("return-path", "").strip().strip("<>").strip()
    if return_path:
        return return_path
    return summary.from_.address if summary.from_ else ""


def _recipients(headers: dict[str, str], summary: Summary) -> list[str]:
    found = [box.address for box in summary.to + summary.cc]
    found += [box.address for box in parse_mailboxes(headers.get("bcc", ""))]
    return list(dict.fromkeys(found))

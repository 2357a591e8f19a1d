"""Mailpit's JSON shapes, built from our records and the read model.

Field names and types follow what Mailpit's own client declares (npm `mailpit-api` 2.1.0,
its index.d.ts) and Mailpit's API documentation. Ids are our message ids as strings (Mailpit's
are random; clients treat them as opaque), and `Username` is our inbox.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Any

from mailtrap_lite.checks.report import Check
from mailtrap_lite.checks.spam import SpamOutcome
from mailtrap_lite.message import Attachment, Message
from mailtrap_lite.mime.headers import Mailbox
from mailtrap_lite.store.records import MessageRecord

JSON = dict[str, Any]
SNIPPET = 250
_ANGLE = re.compile(r"<([^>]*)>")


def address(box: Mailbox) -> JSON:
    """Return {Name, Address}: a missing name is "", as Go writes an empty string."""
    return {"Name": box.name or "", "Address": box.address}


def _boxes(boxes: list[Mailbox]) -> list[JSON]:
    return [address(b) for b in boxes]


def _bcc(record: MessageRecord) -> list[JSON]:
    return [{"Name": "", "Address": a} for a in record.bcc]


def _message_id(record: MessageRecord) -> str:
    return (record.message_id or "").strip().strip("<>")


def summary(record: MessageRecord) -> JSON:
    """Return a MessageListItem (what lists and searches hold)."""
    return {
        "ID": str(record.id),
        "MessageID": _message_id(record),
        "Read": record.read,
        "From": address(record.from_) if record.from_ else None,
        "To": _boxes(record.to),
        "Cc": _boxes(record.cc),
        "Bcc": _bcc(record),
        "ReplyTo": _boxes(record.reply_to),
        "Subject": record.subject,
        "Created": record.received_at,  # RFC 3339 with milliseconds, as Mailpit writes it
        "Username": record.inbox,
        "Tags": list(record.tags),
        "Size": record.size,
        "Attachments": record.attachment_count or 0,
        "Snippet": (record.snippet or "")[:SNIPPET],
    }


def messages_summary(
    records: list[MessageRecord], start: int, counts: dict[str, int], tags: list[str]
) -> JSON:
    """Return MessagesSummary: the page and the counts (all mail, and what matched)."""
    return {
        "total": counts["total"],
        "unread": counts["unread"],
        "count": len(records),
        "messages_count": counts["matched"],
        "messages_unread": counts["matched_unread"],
        "start": start,
        "tags": tags,
        "messages": [summary(r) for r in records],
    }


def attachment(found: Attachment) -> JSON:
    """Return an attachment with its part address as PartID and its checksums."""
    return {
        "PartID": found.address,
        "FileName": found.filename or "",
        "ContentType": found.content_type,
        "ContentID": found.content_id or "",
        "Size": len(found.data),
        "Checksums": {
            "MD5": hashlib.md5(found.data, usedforsecurity=False).hexdigest(),
            "SHA1": hashlib.sha1(found.data, usedforsecurity=False).hexdigest(),
            "SHA256": hashlib.sha256(found.data).hexdigest(),
        },
    }


def message(record: MessageRecord, parsed: Message) -> JSON:
    """Return Mailpit's Message (GET /api/v1/message/ID)."""
    unsubscribe = next(iter(parsed.header_values("List-Unsubscribe")), "")
    post = next(iter(parsed.header_values("List-Unsubscribe-Post")), "")
    return {
        "ID": str(record.id),
        "MessageID": _message_id(record),
        # Mailpit's Message has no Read, but the Python client mailpit-api-client requires
        # one: serving it costs Mailpit's clients nothing.
        "Read": record.read,
        "From": address(record.from_) if record.from_ else None,
        "To": _boxes(record.to),
        "Cc": _boxes(record.cc),
        "Bcc": _bcc(record),
        "ReplyTo": _boxes(record.reply_to),
        "ReturnPath": record.mail_from,
        "Subject": record.subject,
        "ListUnsubscribe": {
            "Header": unsubscribe,
            "Links": _ANGLE.findall(unsubscribe),
            "Errors": "",
            "HeaderPost": post,
        },  # fmt: skip
        "Date": record.date or record.received_at,
        "Tags": list(record.tags),
        "Username": record.inbox,
        "Text": parsed.text or "",
        "HTML": parsed.html or "",
        "Size": record.size,
        "Inline": [attachment(a) for a in parsed.attachments if a.inline],
        "Attachments": [attachment(a) for a in parsed.attachments if not a.inline],
    }


def canonical_key(name: str) -> str:
    """Return Go's canonical header key (net/textproto): `content-type` -> `Content-Type`."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def headers(fields: list[tuple[str, str]]) -> JSON:
    """Return {Canonical-Key: [values]}, keys sorted, values as received (not decoded)."""
    found: dict[str, list[str]] = defaultdict(list)
    for name, value in fields:
        found[canonical_key(name)].append(value)
    return dict(sorted(found.items()))


def spam_check(outcome: SpamOutcome) -> JSON:
    """Return Mailpit's SpamAssassin result: Error, IsSpam, Score, Rules (null after an error)."""
    result = outcome.result
    if result is None:
        reason = outcome.error or (outcome.checks[0].detail if outcome.checks else "not scored")
        return {"Error": reason, "IsSpam": False, "Score": 0, "Rules": None}
    return {
        "Error": "",
        "IsSpam": result.is_spam or result.score >= result.threshold,
        "Score": result.score,
        "Rules": [
            {"Name": r.name, "Score": r.score, "Description": r.description} for r in result.rules
        ],  # fmt: skip
    }


def link_check(judged: list[tuple[str, list[Check]]]) -> JSON:
    """Return Mailpit's link check (Errors, Links[URL, StatusCode, Status]) from static checks.

    Nothing is requested (SECURITY.md: the server never follows a link), so no link has an
    HTTP status: StatusCode is 0 and Status says so, naming the checks a link does not pass;
    Errors counts those links, not (as Mailpit does) the ones that did not answer 2xx or 3xx.
    """
    links = [{"URL": url, "StatusCode": 0, "Status": _not_followed(found)} for url, found in judged]
    return {"Errors": sum(1 for _, found in judged if found), "Links": links}


def _not_followed(found: list[Check]) -> str:
    if not found:
        return "Not followed (static checks passed)"
    return f"Not followed (static checks: {', '.join(check.id for check in found)})"

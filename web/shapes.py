"""The JSON shapes of the API (INTERFACE.md), built from the Store's records and the read model.

Wire shapes live here, in the web layer: the records are plain data and the database keeps
its own column formats, so either can change without the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailtrap_lite.checks import Check, Report
from mailtrap_lite.message import Attachment, Message
from mailtrap_lite.mime.body import Part
from mailtrap_lite.mime.headers import Mailbox, rfc3339
from mailtrap_lite.mime.links import Link
from mailtrap_lite.services.webhooks import WebhookDelivery
from mailtrap_lite.store.records import (
    MessageRecord,
    Problem,
    ReleaseRecord,
    SessionRecord,
    TranscriptEntry,
    Warning_,
)
from mailtrap_lite.transfer import Tally

JSON = dict[str, Any]


def mailbox(box: Mailbox) -> JSON:
    """Return a header address: {"name": str|null, "address": str}."""
    return {"name": box.name, "address": box.address}


def warning(found: Warning_) -> JSON:
    """Return one warning: {"code", "message"}."""
    return {"code": found.code, "message": found.message}


def summary(record: MessageRecord, message: Message | None = None) -> JSON:
    """Return the summary shape; with the read model, its counts even before indexing."""
    attachment_count = record.attachment_count
    snippet = record.snippet
    if message is not None and not record.indexed:
        attachment_count, snippet = message.attachment_count, message.snippet
    return {
        "id": str(record.id),
        "inbox": record.inbox,
        "received_at": record.received_at,
        "mail_from": record.mail_from,
        "rcpt_to": list(record.rcpt_to),
        "from": mailbox(record.from_) if record.from_ else None,
        "to": [mailbox(m) for m in record.to],
        "cc": [mailbox(m) for m in record.cc],
        "subject": record.subject,
        "size": record.size,
        "attachment_count": attachment_count or 0,
        "read": record.read,
        "snippet": snippet or "",
        "session_id": str(record.session_id) if record.session_id is not None else None,
        "tags": list(record.tags),
    }


def full_message(
    record: MessageRecord, message: Message, releases: list[ReleaseRecord] | None = None
) -> JSON:
    """Return the full-message shape: the summary, what the read model holds, releases."""
    return {
        **summary(record, message),
        "message_id": record.message_id,
        "date": record.date,
        "reply_to": [mailbox(m) for m in record.reply_to],
        "bcc": [{"name": None, "address": address} for address in record.bcc],
        "headers": [[name, value] for name, value in message.headers],
        "headers_cut": message.headers_cut,
        "text": message.text,
        "html": message.html,
        "attachments": [attachment(a) for a in message.attachments],
        "parts": part(message.tree) if message.tree is not None else None,
        "omitted_parts": message.omitted_parts,
        "links": message.web_links(),
        "link_details": [link(found) for found in message.links],
        "warnings": [warning(w) for w in record.warnings],
        "releases": [release(r) for r in releases or []],
    }


def release(found: ReleaseRecord) -> JSON:
    """Return one release: when, to whom, whether the server took it, its reply, session."""
    return {
        "released_at": found.released_at,
        "to": list(found.recipients),
        "ok": found.ok,
        "reply": found.reply,
        "session_id": str(found.session_id) if found.session_id is not None else None,
    }


def webhook_delivery(found: WebhookDelivery) -> JSON:
    """Return one webhook delivery: where, for which message, how it went."""
    return {
        "id": str(found.id),
        "url": found.url,
        "message_id": str(found.message_id),
        "status": found.status,
        "attempts": found.attempts,
        "last_error": found.last_error,
        "response_status": found.response_status,
        "created_at": _when(found.created_at),
        "updated_at": _when(found.updated_at),
    }


def _when(unix: float) -> str:
    return rfc3339(dt.datetime.fromtimestamp(unix, dt.UTC))


def attachment(found: Attachment) -> JSON:
    """Return one attachment: its index, part address, name, type, decoded size, placement."""
    return {
        "index": found.index,
        "part": found.address,
        "filename": found.filename,
        "content_type": found.content_type,
        "size": len(found.data),
        "inline": found.inline,
        "content_id": found.content_id,
    }


def part(node: Part) -> JSON:
    """Return a node of the MIME tree with its children."""
    return {
        "part": node.address,
        "content_type": node.content_type,
        "disposition": node.disposition,
        "filename": node.filename,
        "charset": node.charset,
        "encoding": node.encoding,
        "content_id": node.content_id,
        "size": node.size,
        "children": [part(child) for child in node.children],
    }


def link(found: Link) -> JSON:
    """Return one link with its kind (web, mailto, tel, ftp, other) and where it was found."""
    return {"url": found.url, "kind": found.kind, "source": found.source, "text": found.text}


def transcript_entry(entry: TranscriptEntry) -> JSON:
    """Return one transcript line."""
    return {
        "at": entry.at,
        "direction": entry.direction,
        "line": entry.line,
        "injected": entry.injected,
    }


def problem(found: Problem) -> JSON:
    """Return one problem of a session: {"code", "text"}."""
    return {"code": found.code, "text": found.text}


def session(record: SessionRecord) -> JSON:
    """Return the session shape (with its transcript when it was loaded)."""
    tls = None
    if record.tls_version:
        tls = {"version": record.tls_version, "cipher": record.tls_cipher}
    data: JSON = {
        "id": str(record.id),
        "kind": record.kind,
        "inbox": record.inbox,
        "peer": record.peer,
        "helo": record.helo,
        "tls": tls,
        "auth_user": record.auth_user,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "end_reason": record.end_reason,
        "message_ids": [str(i) for i in record.message_ids],
        "problems": [problem(p) for p in record.problems],
    }
    if record.transcript is not None:
        data["transcript"] = [transcript_entry(e) for e in record.transcript]
    return data


def import_summary(tally: Tally) -> JSON:
    """Return what an import did: counts, each failure with its place, the sessions."""
    return {
        "imported": tally.done,
        "skipped": tally.skipped,
        "failed": [
            {"where": f.where, "reason": f.reason, "kind": f.kind, "ordinal": f.ordinal}
            for f in tally.failed
        ],
        "session_ids": [str(i) for i in tally.session_ids],
    }


def check(found: Check) -> JSON:
    """Return one deliverability check: id, category, status, title, detail, reference."""
    return {
        "id": found.id,
        "category": found.category,
        "status": found.status,
        "title": found.title,
        "detail": found.detail,
        "reference": found.reference,
    }


def report(found: Report) -> JSON:
    """Return a deliverability report: {"summary": {"fail", "warn", "pass"}, "checks": [...]}."""
    return {"summary": found.summary, "checks": [check(c) for c in found.checks]}

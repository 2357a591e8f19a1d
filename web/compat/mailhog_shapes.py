"""MailHog's message shape, as MailHog writes it, from a stored message's raw bytes.

    {ID, From{Relays, Mailbox, Domain, Params}, To[], Content{Headers{Key: [raw]}, Body, Size,
     MIME}, Created, MIME{Parts[Content]}|null, Raw{From, To, Data, Helo}}

MailHog's clients decode what they need themselves, so header values stay raw (RFC 2047
words undecoded) and bodies keep their transfer encoding; parts come from splitting the
body on the boundary, as MailHog does (mailhog/data). Header names keep the sender's case.
"""

from __future__ import annotations

import re
from typing import Any

from mailtrap_lite.store.records import MessageRecord

JSON = dict[str, Any]
MAX_DEPTH = 8  # nested multiparts read; deeper ones stay one part (hostile input)
_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))""", re.IGNORECASE)


def path(address: str) -> JSON:
    """Return an SMTP path as MailHog splits it: mailbox and domain."""
    mailbox, _, domain = address.rpartition("@") if "@" in address else (address, "", "")
    return {"Relays": None, "Mailbox": mailbox, "Domain": domain, "Params": ""}


def created(received_at: str) -> str:
    """Return the time as Go writes it (RFC 3339 with nanoseconds)."""
    return received_at.replace("Z", "000000Z") if len(received_at) == 24 else received_at


def message(record: MessageRecord, raw: bytes, helo: str | None) -> JSON:
    """Return the message as MailHog's API v1 and v2 show it."""
    data = raw.decode("utf-8", "replace")
    content = content_of(data, 0)
    mime = content.pop("_mime")
    return {
        "ID": str(record.id),
        "From": path(record.mail_from),
        "To": [path(rcpt) for rcpt in record.rcpt_to],
        "Content": content,
        "Created": created(record.received_at),
        "MIME": mime,
        "Raw": {
            "From": record.mail_from,
            "To": list(record.rcpt_to),
            "Data": data,
            "Helo": helo or "",
        },  # fmt: skip
    }


def content_of(text: str, depth: int) -> JSON:
    """Return {Headers, Body, Size, MIME: null} and, under "_mime", its parts (or None)."""
    head, _, body = _split_head(text)
    headers = parse_headers(head)
    found: JSON = {"Headers": headers, "Body": body, "Size": len(text.encode()), "MIME": None}
    found["_mime"] = _mime(headers, body, depth)
    return found


def _split_head(text: str) -> tuple[str, str, str]:
    for separator in ("\r\n\r\n", "\n\n"):
        if separator in text:
            return text.partition(separator)
    return text, "", ""


def parse_headers(head: str) -> dict[str, list[str]]:
    """Return {Name: [values]}: names as sent, folded lines joined, values raw."""
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and last is not None:
            headers[last][-1] += line  # a folded line goes on, as MailHog keeps it
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            continue
        last = name.strip()
        headers.setdefault(last, []).append(value.strip())
    return headers


def _mime(headers: dict[str, list[str]], body: str, depth: int) -> JSON | None:
    content_type = next((v[0] for k, v in headers.items() if k.lower() == "content-type"), "")
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/") or match is None or depth > MAX_DEPTH:
        return None
    boundary = match.group(1) or match.group(2)
    parts = []
    for chunk in body.split("--" + boundary)[1:]:
        if chunk.startswith("--"):
            break  # the closing delimiter
        part = content_of(chunk.removeprefix("\r\n").removeprefix("\n"), depth + 1)
        part["MIME"] = part.pop("_mime")
        parts.append(part)
    return {"Parts": parts}


def messages_page(items: list[JSON], total: int, start: int) -> JSON:
    """Return API v2's page: {total, count, start, items}."""
    return {"total": total, "count": len(items), "start": start, "items": items}

"""Migrating from a running Mailpit or MailHog: every message's raw source over their APIs.

Both list newest first. Mailpit's list holds summaries (ID, Created), so its IDs are listed
first and each message's source fetched oldest first (`/api/v1/message/ID/raw`). MailHog's
v2 list holds each message's source and envelope (`Raw`), so its pages are read from the
last (the oldest messages) to the first, each page backwards.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.transfer.http import HttpClient
from mailtrap_lite.transfer.items import Failure, Item, TransferError

MAILPIT_PAGE = 500
MAILHOG_PAGE = 250  # MailHog's own maximum
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Go writes nanoseconds; Python reads microseconds


def created(text: object) -> str | None:
    """Return a Created time (RFC 3339, any precision) as ours, or None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    except ValueError:
        return None
    return rfc3339(when if when.tzinfo else when.replace(tzinfo=dt.UTC))


class MailpitSource:
    """Every message of a Mailpit server, oldest first."""

    def __init__(self, url: str) -> None:
        self.client = HttpClient(url, "Mailpit")
        self.name = f"mailpit {self.client.base}"

    def count(self) -> int:
        """Return how many messages the server holds."""
        return int(_field(self._page(0, 1), "messages_count", "total"))

    def _page(self, start: int, limit: int) -> dict[str, Any]:
        page = self.client.get_json("/api/v1/messages", start=start, limit=limit)
        if not isinstance(page, dict) or not isinstance(page.get("messages"), list):
            raise TransferError("Mailpit's /api/v1/messages did not answer a message list")
        return page

    def _summaries(self) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        while True:
            messages = self._page(len(found), MAILPIT_PAGE)["messages"]
            found += [(str(m["ID"]), created(m.get("Created"))) for m in messages]
            if len(messages) < MAILPIT_PAGE:
                return found

    def items(self) -> Iterator[Item | Failure]:
        """Yield each message's raw source, oldest first."""
        for message_id, received_at in reversed(self._summaries()):
            where = f"{self.name}: message {message_id}"
            path = f"/api/v1/message/{urllib.parse.quote(message_id, safe='')}/raw"
            try:
                raw = self.client.get_bytes(path)
            except TransferError as error:  # deleted meanwhile, say: the others still come
                yield Failure(where, str(error), "unavailable")
                continue
            yield Item(raw, where, received_at=received_at)


class MailHogSource:
    """Every message of a MailHog server with its envelope, oldest first."""

    def __init__(self, url: str) -> None:
        self.client = HttpClient(url, "MailHog")
        self.name = f"mailhog {self.client.base}"

    def count(self) -> int:
        """Return how many messages the server holds."""
        return int(_field(self._page(0, 1), "total"))

    def _page(self, start: int, limit: int) -> dict[str, Any]:
        page = self.client.get_json("/api/v2/messages", start=start, limit=limit)
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise TransferError("MailHog's /api/v2/messages did not answer a message list")
        return page

    def items(self) -> Iterator[Item | Failure]:
        """Yield each message's raw source and envelope, oldest first."""
        total = self.count()
        for start in range((max(total, 1) - 1) // MAILHOG_PAGE * MAILHOG_PAGE, -1, -MAILHOG_PAGE):
            for entry in reversed(self._page(start, MAILHOG_PAGE)["items"]):
                yield self._item(entry)

    def _item(self, entry: dict[str, Any]) -> Item | Failure:
        where = f"{self.name}: message {entry.get('ID')}"
        raw = entry.get("Raw") or {}
        data = raw.get("Data")
        if not isinstance(data, str):
            return Failure(where, "MailHog gave no raw source (Raw.Data)", "unavailable")
        recipients = raw.get("To")
        return Item(
            data.encode("utf-8", "surrogateescape"),
            where,
            received_at=created(entry.get("Created")),
            mail_from=raw.get("From") or None,
            rcpt_to=[str(r) for r in recipients] if isinstance(recipients, list) else None,
        )


def _field(page: dict[str, Any], *names: str) -> int:
    for name in names:
        if isinstance(page.get(name), int):
            return int(page[name])
    raise TransferError(f"the server's message list has no {names[0]!r} count")

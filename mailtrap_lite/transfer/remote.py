"""A running mailtrap-lite server as the other end of an import or export (`--url`).

Exports stream from `GET /api/v1/export`. Imports read the files here, so that failures
name the file and position the user gave, and send the messages in mboxrd batches to
`POST /api/v1/import`, each batch within the server's upload limit.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.records import StoredMessage
from mailtrap_lite.transfer.envelope import first_headers, received_at
from mailtrap_lite.transfer.files import SESSIONS_FILE
from mailtrap_lite.transfer.http import HttpClient
from mailtrap_lite.transfer.items import Failure, Item, TransferError
from mailtrap_lite.transfer.load import Tally
from mailtrap_lite.transfer.mbox import mboxrd_entry
from mailtrap_lite.transfer.writers import Writer

UPLOAD_BYTES = 4 * 1024 * 1024  # one batch's mbox, well below the server's upload limit
MBOX_TYPE = "application/mbox"


class ServerTarget:
    """Imports into a running server: each batch an mboxrd upload, answered with a tally.

    `tags` go with every upload (`tag=` once per tag), so the server tags what it stores.
    """

    def __init__(
        self,
        url: str,
        inbox: str = "default",
        keep_duplicates: bool = False,
        tags: Sequence[str] = (),
    ):
        self.client = HttpClient(url, "the server")
        self.inbox = inbox
        self.keep_duplicates = keep_duplicates
        self.tags = list(tags)
        self._source = ""
        self._tally: Tally | None = None

    def begin(self, source: str, tally: Tally) -> None:
        """Remember the source: each upload's session on the server names it."""
        self._source, self._tally = source, tally

    def commit(self, items: list[Item]) -> tuple[int, int, list[Failure]]:
        """Upload a batch (in parts within UPLOAD_BYTES); return what the server made of it."""
        stored = skipped = 0
        failures: list[Failure] = []
        for part in _parts(items):
            answer = self._upload(part)
            stored += int(answer.get("imported", 0))
            skipped += int(answer.get("skipped", 0))
            failures += [_local(part, found) for found in answer.get("failed", [])]
            if self._tally is not None:
                self._tally.session_ids += [int(i) for i in answer.get("session_ids", [])]
        return stored, skipped, failures

    def _upload(self, part: list[Item]) -> dict[str, Any]:
        body = b"".join(_mbox_entry(item) for item in part)
        keep = "true" if self.keep_duplicates else None
        answer = self.client.post("/api/v1/import", body, MBOX_TYPE, inbox=self.inbox,
                                  source=self._source, keep_duplicates=keep,
                                  tag=self.tags or None)  # fmt: skip
        if not isinstance(answer, dict):
            raise TransferError("the server answered the import with something not a summary")
        return answer

    def end(self, line: str, stopped: bool) -> None:
        """Nothing to close: the server ended each upload's session."""


def _parts(items: list[Item]) -> Iterator[list[Item]]:
    part: list[Item] = []
    size = 0
    for item in items:
        if part and size + len(item.raw) > UPLOAD_BYTES:
            yield part
            part, size = [], 0
        part.append(item)
        size += len(item.raw)
    if part:
        yield part


def _mbox_entry(item: Item) -> bytes:
    """Return the message in mboxrd with the time and sender worked out here."""
    when = item.received_at or received_at(first_headers(item.raw))
    return mboxrd_entry(item.raw, item.mail_from, when)


def _local(part: list[Item], found: dict[str, Any]) -> Failure:
    """Name a failure the server reported by the message's place in the user's file."""
    ordinal = found.get("ordinal")
    where = str(found.get("where", "upload"))
    if isinstance(ordinal, int) and 1 <= ordinal <= len(part):
        where = part[ordinal - 1].where
    return Failure(where, str(found.get("reason", "refused")), str(found.get("kind", "refused")))


def export_from_server(
    url: str, fmt: str, query: str | None, inbox: str | None, sessions: bool
) -> Iterator[bytes]:
    """Yield an export from a server, piece by piece, as it streams."""
    client = HttpClient(url, "the server")
    keep = "true" if sessions else None
    yield from client.get_chunks("/api/v1/export", format=fmt, query=query or None,
                                 inbox=inbox or None, sessions=keep)  # fmt: skip


def write_export_zip(archive: IO[bytes], writer: Writer) -> Iterator[int]:
    """Write an exported zip file's messages (and sessions) to a folder writer; yield count.

    The zip file keeps what a folder needs: ids in the entry names, arrival times as the
    entries' dates (UTC). Whether a message was read is not in it (Maildir's S flag).
    """
    count = 0
    with zipfile.ZipFile(archive) as opened:
        for entry in opened.infolist():
            stem, _, suffix = entry.filename.rpartition(".")
            if entry.filename == SESSIONS_FILE:
                with opened.open(entry) as lines:
                    writer.add_sessions(line.decode("utf-8").rstrip("\n") for line in lines)
            elif suffix == "eml" and stem.isdigit():
                writer.add(_stored(int(stem), entry, opened.read(entry)))
                count += 1
                yield count
    writer.close()


def _stored(message_id: int, entry: zipfile.ZipInfo, raw: bytes) -> StoredMessage:
    when = rfc3339(dt.datetime(*entry.date_time, tzinfo=dt.UTC))
    return StoredMessage(message_id, "", None, when, "", [], False, raw)

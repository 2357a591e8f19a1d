"""What search reads of a message, the same for every backend: folded text and address rows.

A backend stores a SearchDocument when the indexer has read a message, and matches queries
(whose values query.py normalized the same way) against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mailtrap_lite.store.folding import fold, fold_address
from mailtrap_lite.store.interface import IndexUpdate
from mailtrap_lite.store.records import MessageRecord

__all__ = [
    "INDEX_PART_CHARS",
    "MAX_HEADER_VALUE",
    "SearchDocument",
    "address_rows",
    "index_parts",
    "search_document",
]

# Text per write transaction of search rows: each commit costs about as much as 50 small
# messages' rows (SQLite; PostgreSQL writes its rows in parts of the same size).
INDEX_PART_CHARS = 65_536
MAX_HEADER_VALUE = 4096  # longer values are not indexed for header:Name=value

FILENAME_SEPARATOR = "\n"


@dataclass(frozen=True)
class SearchDocument:
    """The searchable text of one message, folded, and its addresses by field."""

    subject: str
    addresses: str  # every address with its display name, for free words
    body: str
    filenames: str  # one per line
    address_rows: list[tuple[str, str]]  # (address, field), for from: to: cc: bcc:


def search_document(record: MessageRecord, update: IndexUpdate) -> SearchDocument:
    """Return what search matches of a message: its stored fields and what the indexer read."""
    return SearchDocument(
        subject=fold(record.subject),
        addresses=fold(_address_text(record)),
        body=update.text,  # folded by the indexer
        filenames=FILENAME_SEPARATOR.join(update.filenames),
        address_rows=address_rows(record),
    )


def _address_text(record: MessageRecord) -> str:
    """Join the envelope and header addresses, display names included."""
    words = [record.mail_from, *record.rcpt_to]
    for box in ([record.from_] if record.from_ else []) + record.to + record.cc + record.reply_to:
        words += [box.name or "", box.address]
    return " ".join(w for w in words if w)


def address_rows(record: MessageRecord) -> list[tuple[str, str]]:
    """Return each (address, field) of a message once, leaving empty addresses out.

    Fields: "from" (the From header), "sender" (MAIL FROM), "to", "cc", "rcpt" (RCPT TO) and
    "bcc" (envelope recipients absent from To and Cc).
    """
    headed = {fold_address(box.address) for box in record.to + record.cc}
    rcpt = [fold_address(address) for address in record.rcpt_to]
    rows = [(fold_address(record.from_.address), "from")] if record.from_ else []
    rows += [(fold_address(record.mail_from), "sender")]
    rows += [(fold_address(box.address), "to") for box in record.to]
    rows += [(fold_address(box.address), "cc") for box in record.cc]
    rows += [(address, "rcpt") for address in rcpt]
    rows += [(address, "bcc") for address in rcpt if address not in headed]
    return list(dict.fromkeys(row for row in rows if row[0]))


def index_parts(texts: Sequence[str]) -> Iterator[range]:
    """Group items into index ranges of about INDEX_PART_CHARS of text (one item at least)."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        if i > start and size + len(text) > INDEX_PART_CHARS:
            yield range(start, i)
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        yield range(start, len(texts))

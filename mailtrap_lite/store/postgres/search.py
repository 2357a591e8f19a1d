"""Search in PostgreSQL: the query language (query.py) as a WHERE condition, and index rows.

The same matches as the SQLite store, by the same means where they differ: free words,
quoted phrases and `subject:` are substring matches with LIKE over text folded in Python
before it is stored (the query term is folded the same way), and pg_trgm's GIN indexes find
the candidates. No tsvector (it matches stemmed words, not substrings) and no SQL lower() or
unaccent() (they depend on the cluster's locale). Address filters look up whole addresses;
`header:Name=value` a decoded value, exactly. The SQL refers to the messages table as `m`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from mailtrap_lite.store.query import Query, Term

__all__ = ["address_rows", "address_text", "fold", "index_parts", "message_filters", "to_sql"]

ADDRESS_KINDS = {"from": ["from", "sender"], "to": ["to", "rcpt"], "cc": ["cc"], "bcc": ["bcc"]}
FLAGS = {"is:read": "m.read", "is:unread": "NOT m.read",
         "has:attachment": "m.attachment_count > 0",
         "has:attachments": "m.attachment_count > 0"}  # fmt: skip
COLUMNS = {"inbox": "m.inbox = %s", "before": "m.received_at < %s",
           "after": "m.received_at >= %s", "larger": "m.size > %s",
           "smaller": "m.size < %s"}  # fmt: skip
TEXT_COLUMNS = ("subject", "addresses", "body")
MAX_HEADER_VALUE = 4096  # longer values are not indexed for header:Name=value
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

Sql = tuple[str, list[object]]


def fold(text: str) -> str:
    """Fold text for substring search, at indexing and at query time alike."""
    return text.lower().replace("\x00", " ")


def ascii_lower(address: str) -> str:
    """Lowercase an address as the SQLite store does (ASCII letters only)."""
    return address.translate(_ASCII_LOWER).replace("\x00", "\ufffd")


def like_pattern(term: str) -> str:
    """Return a LIKE pattern matching `term` anywhere (its wildcards escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def message_filters(
    query: Query | None,
    inbox: str | None,
    before: int | None = None,
    after: int | None = None,
) -> Sql:
    """Return a WHERE clause (or "") over `messages m` for a query, an inbox and id bounds."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (("m.inbox = %s", inbox), ("m.id < %s", before), ("m.id > %s", after)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if query:
        where, values = to_sql(query)
        clauses.append(f"({where})")
        params.extend(values)
    return ("WHERE " + " AND ".join(clauses) if clauses else "", params)


def to_sql(query: Query) -> Sql:
    """Translate a parsed query into one WHERE condition over `messages m`."""
    clauses: list[str] = []
    params: list[object] = []
    texts = [t for t in query.terms if t.field in ("text", "subject") and not t.negated]
    if texts:  # every positive text term in one look-up of message_text
        conditions = [_text_condition(t) for t in texts]
        found = " AND ".join(condition for condition, _ in conditions)
        clauses.append(f"m.id IN (SELECT id FROM message_text WHERE {found})")
        params.extend(v for _, values in conditions for v in values)
    for term in query.terms:
        if term in texts:
            continue
        clause, values = _term_sql(term)
        clauses.append(f"NOT ({clause})" if term.negated else clause)
        params.extend(values)
    return " AND ".join(clauses) or "true", params


def _text_condition(term: Term) -> Sql:
    """Return the condition on message_text for a free word, phrase or subject: term."""
    columns = ("subject",) if term.field == "subject" else TEXT_COLUMNS
    found = " OR ".join(f"{column} LIKE %s" for column in columns)
    return f"({found})", [like_pattern(fold(term.value))] * len(columns)


def _term_sql(term: Term) -> Sql:
    """Return the condition for one term (before negation)."""
    field, value = term.field, term.value
    if field in ("text", "subject"):
        condition, params = _text_condition(term)
        return f"m.id IN (SELECT id FROM message_text WHERE {condition})", params
    if field in ADDRESS_KINDS:
        return (
            "m.id IN (SELECT message_id FROM message_addresses"
            " WHERE address = %s AND field = ANY(%s))",
            [ascii_lower(value), ADDRESS_KINDS[field]],
        )
    if field == "header":
        if not value:
            return "m.id IN (SELECT message_id FROM message_headers WHERE name = %s)", [term.header]
        return (
            "m.id IN (SELECT message_id FROM message_headers"
            " WHERE name = %s AND md5(value) = md5(%s) AND value = %s)",
            [term.header, value, value],
        )
    if field in ("is", "has"):
        return FLAGS[f"{field}:{value}"], []
    return COLUMNS[field], [int(value) if field in ("larger", "smaller") else value]


# -- index rows (after the commit, by the indexer) -------------------------------------------

INDEX_PART_CHARS = 65_536


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


def _boxes(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


def address_rows(message_id: int, columns: Sequence[Any]) -> set[tuple[str, str, int]]:
    """Return (address, field, message id) rows of a message's envelope and headers.

    `columns` are mail_from, rcpt_to, from_json, to_json, cc_json as stored.
    """
    mail_from, rcpt_json, from_json, to_json, cc_json = columns
    rows: set[tuple[str, str, int]] = set()
    boxes = {"from": [json.loads(from_json)] if from_json else [], "to": _boxes(to_json),
             "cc": _boxes(cc_json)}  # fmt: skip
    for field, found in boxes.items():
        rows.update((ascii_lower(address), field, message_id) for _, address in found
                    if address is not None)  # fmt: skip
    if mail_from:
        rows.add((ascii_lower(mail_from), "sender", message_id))
    seen = {ascii_lower(a) for _, a in boxes["to"] + boxes["cc"] if a is not None}
    for rcpt in (ascii_lower(r) for r in json.loads(rcpt_json)):
        rows.add((rcpt, "rcpt", message_id))
        if rcpt not in seen:
            rows.add((rcpt, "bcc", message_id))
    return rows


def address_text(columns: Sequence[Any]) -> str:
    """Join the envelope and header addresses, display names included, for free words.

    `columns` are mail_from, rcpt_to, from_json, to_json, cc_json, reply_to_json as stored.
    """
    mail_from, rcpt_to, from_json, *lists = columns
    words = [mail_from, *json.loads(rcpt_to)]
    boxes = [json.loads(from_json)] if from_json else []
    for column in lists:
        boxes += json.loads(column)
    for name, address in boxes:
        words += [name or "", address]
    return " ".join(w for w in words if w)


def header_rows(message_id: int, headers: list[tuple[str, str]]) -> set[tuple[str, str, int]]:
    """Return (lowercased name, value, message id) rows for header:Name=value, each once."""
    return {
        (name.lower().replace("\x00", "\ufffd"), value.replace("\x00", "\ufffd"), message_id)
        for name, value in headers
        if len(value) <= MAX_HEADER_VALUE
    }

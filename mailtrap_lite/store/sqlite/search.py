"""Search in SQL: the query language (query.py) as a WHERE condition, and the index rows.

Free words, quoted phrases and `subject:` are case-insensitive substring matches through the
FTS5 trigram index; its text is lowercased before it is stored, so that terms shorter than
three characters (which trigrams cannot find) are matched with instr() over the same columns.
Address filters look up whole addresses; `header:Name=value` a decoded value, exactly. The SQL
refers to the messages table as `m`. Kept beside store.py: the only modules that hold SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mailtrap_lite.store.query import Query, Term

__all__ = [
    "SqlFilter",
    "count_sql",
    "message_filters",
    "page_sql",
    "purge_search_rows",
    "to_sql",
    "write_search_rows",
]

ADDRESS_KINDS = {"from": ("from", "sender"), "to": ("to", "rcpt"), "cc": ("cc",),
                 "bcc": ("bcc",)}  # fmt: skip
FLAGS = {"is:read": "m.read = 1", "is:unread": "m.read = 0",
         "is:tagged": "m.id IN (SELECT message_id FROM message_tags)",
         "has:attachment": "m.attachment_count > 0",
         "has:attachments": "m.attachment_count > 0"}  # fmt: skip
COLUMNS = {"inbox": "m.inbox = ?", "before": "m.received_at < ?", "after": "m.received_at >= ?",
           "larger": "m.size > ?", "smaller": "m.size < ?"}  # fmt: skip
TRIGRAM = 3  # the trigram tokenizer cannot find shorter substrings
TEXT_COLUMNS = ("subject", "addresses", "body")
MAX_HEADER_VALUE = 4096  # longer values are not indexed for header:Name=value
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class SqlFilter:
    """A WHERE condition over `messages m` and its parameters."""

    where: str
    params: tuple[object, ...]


Sql = tuple[str, tuple[object, ...]]
NOT_GONE = " AND rowid NOT IN (SELECT id FROM search_gone)"  # deleted, not yet purged


def count_sql(query: Query | None, inbox: str | None, after: int | None = None) -> Sql:
    """Return SQL counting the messages that match (newer than `after`)."""
    fts = _fts_only(query, inbox)
    if fts is not None:  # the index alone answers: no lookup of each match in messages
        where, params = _rowid_bounds(None, after)
        return (
            f"SELECT count(*) FROM message_fts WHERE message_fts MATCH ?{where}{NOT_GONE}",
            (fts, *params),
        )
    where, params = message_filters(query, inbox, None, after)
    return f"SELECT count(*) FROM messages m {where}", params


def page_sql(
    columns: str,
    query: Query | None,
    inbox: str | None,
    before: int | None,
    after: int | None,
    limit: int,
) -> Sql:
    """Return SQL selecting `columns` of the newest `limit` matches between the id bounds."""
    fts = _fts_only(query, inbox)
    if fts is not None:  # FTS5 walks rowids newest first and stops after `limit`
        where, params = _rowid_bounds(before, after)
        return (
            f"SELECT {columns} FROM messages m WHERE m.id IN (SELECT rowid FROM message_fts"
            f" WHERE message_fts MATCH ?{where}{NOT_GONE} ORDER BY rowid DESC LIMIT ?)"
            " ORDER BY m.id DESC",
            (fts, *params, limit),
        )
    where, params = message_filters(query, inbox, before, after)
    return f"SELECT {columns} FROM messages m {where} ORDER BY m.id DESC LIMIT ?", (*params, limit)


def _fts_only(query: Query | None, inbox: str | None) -> str | None:
    """Return the MATCH expression when the query is nothing but positive indexed text.

    Measured on 100,000 messages, a word in half of them: 13 ms to count in the index
    against 54 ms to look every match up in messages.
    """
    if inbox is not None or not query:
        return None
    if not all(_is_fts(t) and not t.negated for t in query.terms):
        return None
    return " AND ".join(_fts_phrase(t) for t in query.terms)


def _rowid_bounds(before: int | None, after: int | None) -> Sql:
    bounds = [(" AND rowid < ?", before), (" AND rowid > ?", after)]
    return "".join(c for c, v in bounds if v is not None), tuple(
        v for _, v in bounds if v is not None
    )


def message_filters(
    query: Query | None,
    inbox: str | None,
    before: int | None = None,
    after: int | None = None,
) -> tuple[str, tuple[object, ...]]:
    """Return a WHERE clause (or "") over `messages m` for a query, an inbox and id bounds."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (("m.inbox = ?", inbox), ("m.id < ?", before), ("m.id > ?", after)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if query:
        found = to_sql(query)
        clauses.append(f"({found.where})")
        params.extend(found.params)
    return ("WHERE " + " AND ".join(clauses) if clauses else "", tuple(params))


def to_sql(query: Query) -> SqlFilter:
    """Translate a parsed query into one WHERE condition over `messages m`."""
    clauses: list[str] = []
    params: list[object] = []
    matched = [t for t in query.terms if _is_fts(t) and not t.negated]
    if matched:  # one MATCH for every positive text term: one pass over the index
        clauses.append("m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)")
        params.append(" AND ".join(_fts_phrase(t) for t in matched))
    for term in query.terms:
        if term in matched:
            continue
        clause, values = _term_sql(term)
        clauses.append(f"NOT ({clause})" if term.negated else clause)
        params.extend(values)
    return SqlFilter(" AND ".join(clauses) or "1", tuple(params))


def _is_fts(term: Term) -> bool:
    return term.field in ("text", "subject") and len(term.value) >= TRIGRAM


def _fts_phrase(term: Term) -> str:
    phrase = '"' + term.value.lower().replace('"', '""') + '"'
    return f"subject : {phrase}" if term.field == "subject" else phrase


def _term_sql(term: Term) -> tuple[str, list[object]]:
    """Return the condition for one term (before negation)."""
    field, value = term.field, term.value
    if field in ("text", "subject"):
        return _text_sql(term)
    if field in ADDRESS_KINDS:
        kinds = ", ".join(f"'{kind}'" for kind in ADDRESS_KINDS[field])
        return (
            "m.id IN (SELECT message_id FROM message_addresses"
            f" WHERE address = ? AND field IN ({kinds}))",
            [value.translate(_ASCII_LOWER)],  # as SQLite's lower() stored it
        )
    if field == "tag":  # names compare without case (the column is NOCASE)
        return (
            "m.id IN (SELECT mt.message_id FROM message_tags mt JOIN tags t"
            " ON t.id = mt.tag_id WHERE t.name = ?)",
            [value],
        )
    if field == "header":
        if not value:
            return "m.id IN (SELECT message_id FROM message_headers WHERE name = ?)", [term.header]
        return (
            "m.id IN (SELECT message_id FROM message_headers WHERE name = ? AND value = ?)",
            [term.header, value],
        )
    return _column_sql(field, value)


def _text_sql(term: Term) -> tuple[str, list[object]]:
    if _is_fts(term):
        return (
            "m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)",
            [_fts_phrase(term)],
        )
    columns = ("subject",) if term.field == "subject" else TEXT_COLUMNS
    found = " OR ".join(f"instr({column}, ?)" for column in columns)
    return f"m.id IN (SELECT id FROM message_text WHERE {found})", [term.value.lower()] * len(
        columns
    )


def _column_sql(field: str, value: str) -> tuple[str, list[object]]:
    if field in ("is", "has"):
        return FLAGS[f"{field}:{value}"], []
    return COLUMNS[field], [int(value) if field in ("larger", "smaller") else value]


# -- index writes (after the commit, by the indexer) -----------------------------------------

INDEX_PART_CHARS = 16_384


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


def write_search_rows(
    conn: sqlite3.Connection, message_id: int, headers: list[tuple[str, str]], text: str
) -> bool:
    """Replace a message's header and full-text rows; False if the message is gone."""
    row = conn.execute(
        "SELECT subject, mail_from, rcpt_to, from_json, to_json, cc_json, reply_to_json"
        " FROM messages WHERE id = ?",
        (message_id,),
    ).fetchone()
    if row is None:
        return False
    _delete_rows(conn, [message_id])
    conn.execute(ADDRESS_ROWS, {"id": message_id})
    conn.executemany(
        "INSERT OR IGNORE INTO message_headers (name, value, message_id) VALUES (?, ?, ?)",
        ((name.lower(), value, message_id) for name, value in headers
         if len(value) <= MAX_HEADER_VALUE),
    )  # fmt: skip
    values = (message_id, row[0].lower(), _address_text(row[1:]).lower(), text.lower())
    conn.execute(
        "INSERT INTO message_text (id, subject, addresses, body) VALUES (?, ?, ?, ?)", values
    )
    conn.execute(
        "INSERT INTO message_fts (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)", values
    )
    return True


# Every address of a message, lowercased (ASCII, as SQLite's lower() does), by field: "from"
# (From header), "sender" (MAIL FROM), "to", "cc", "rcpt" (RCPT TO) and "bcc" (envelope
# recipients absent from To and Cc).
ADDRESS_ROWS = """
INSERT OR IGNORE INTO message_addresses (address, field, message_id)
SELECT lower(json_extract(m.from_json, '$[1]')), 'from', m.id FROM messages m
    WHERE m.id = :id AND json_extract(m.from_json, '$[1]') IS NOT NULL
UNION ALL SELECT lower(m.mail_from), 'sender', m.id FROM messages m
    WHERE m.id = :id AND m.mail_from != ''
UNION ALL SELECT lower(json_extract(j.value, '$[1]')), 'to', m.id
    FROM messages m, json_each(m.to_json) j WHERE m.id = :id
UNION ALL SELECT lower(json_extract(j.value, '$[1]')), 'cc', m.id
    FROM messages m, json_each(m.cc_json) j WHERE m.id = :id
UNION ALL SELECT lower(j.value), 'rcpt', m.id FROM messages m, json_each(m.rcpt_to) j
    WHERE m.id = :id
UNION ALL SELECT lower(j.value), 'bcc', m.id FROM messages m, json_each(m.rcpt_to) j
    WHERE m.id = :id AND lower(j.value) NOT IN (
        SELECT lower(json_extract(t.value, '$[1]')) FROM json_each(m.to_json) t
        UNION SELECT lower(json_extract(c.value, '$[1]')) FROM json_each(m.cc_json) c)
"""


def _delete_rows(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete the header rows and the text of these messages, and their index entries."""
    params = [(i,) for i in ids]
    # External content: FTS5 needs the old values to remove their index entries.
    conn.executemany(
        "INSERT INTO message_fts (message_fts, rowid, subject, addresses, body)"
        " SELECT 'delete', id, subject, addresses, body FROM message_text WHERE id = ?",
        params,
    )
    conn.executemany("DELETE FROM message_text WHERE id = ?", params)
    conn.executemany("DELETE FROM message_headers WHERE message_id = ?", params)


def _address_text(columns: Sequence[Any]) -> str:
    """Join the envelope and header addresses, display names included, for free words."""
    mail_from, rcpt_to, from_json, *lists = columns
    words = [mail_from, *json.loads(rcpt_to)]
    boxes = [json.loads(from_json)] if from_json else []
    for column in lists:
        boxes += json.loads(column)
    for name, address in boxes:
        words += [name or "", address]
    return " ".join(w for w in words if w)


def purge_search_rows(conn: sqlite3.Connection, batch: int) -> int:
    """Remove the search rows of up to `batch` deleted messages; return how many were done."""
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM messages)").fetchone()[0]:
        # Everything was deleted: empty the tables at once (FTS5 "delete-all").
        done = conn.execute("DELETE FROM search_gone").rowcount
        conn.execute("INSERT INTO message_fts (message_fts) VALUES ('delete-all')")
        conn.execute("DELETE FROM message_text")
        conn.execute("DELETE FROM message_headers")
        conn.execute("DELETE FROM message_addresses")
        return int(done)
    ids = [row[0] for row in conn.execute("SELECT id FROM search_gone LIMIT ?", (batch,))]
    _delete_rows(conn, ids)
    for statement in (
        "DELETE FROM message_addresses WHERE message_id = ?",
        "DELETE FROM search_gone WHERE id = ?",
    ):
        conn.executemany(statement, ((i,) for i in ids))
    return len(ids)

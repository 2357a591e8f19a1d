"""Search in SQL: a parsed query (query.py) as a WHERE condition over `messages m`.

Free words, phrases, `subject:` and `filename:` are substring matches of folded text
(store/folding.py) through the FTS5 trigram index over message_text; terms under three
characters (which trigrams cannot find) are matched with instr() over the same columns.
Indexed text terms under AND and OR become one MATCH expression: one pass over the index.
Address filters look up message_addresses: a whole address by its key; a glob by the longer
literal end, as a range of addresses or of reversed ones (`*@shop.example` is the range of
reversed addresses starting "elpmaxe.pohs@"). `header:Name=value` matches a decoded value
exactly. Kept beside store.py: the only modules that hold SQL (index writes: searchrows.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mailtrap_lite.store.query import And, Node, Not, Query, QueryError, Term

__all__ = ["SqlFilter", "count_sql", "message_filters", "page_sql", "runnable", "to_sql"]

Sql = tuple[str, list[object]]
ADDRESS_KINDS = {"from": ("from", "sender"), "to": ("to", "rcpt"), "cc": ("cc",),
                 "bcc": ("bcc",)}  # fmt: skip
FLAG_SQL = {("is", "read"): "m.read = 1", ("is", "unread"): "m.read = 0",
            ("is", "tagged"): "m.id IN (SELECT message_id FROM message_tags)",
            ("has", "attachment"): "m.attachment_count > 0"}  # fmt: skip
COLUMNS = {"inbox": "m.inbox = ?", "before": "m.received_at < ?", "after": "m.received_at >= ?",
           "larger": "m.size > ?", "smaller": "m.size < ?"}  # fmt: skip
TEXT_COLUMNS = {"text": ("subject", "addresses", "body", "filenames"), "subject": ("subject",),
                "filename": ("filenames",)}  # fmt: skip
TRIGRAM = 3  # the trigram tokenizer cannot find shorter substrings
# MATCH expressions nest at most this deep (FTS5 parses them with a small fixed stack);
# deeper groups are joined in SQL instead.
FTS_DEPTH = 4
CHUNK = 8  # conditions per level of parentheses: SQLite's expression depth stays logarithmic
FTS_IN = "m.id IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)"
# What SQLite says when a query is too large to run (its compile-time limits).
TOO_LARGE = ("too many SQL variables", "Expression tree is too large", "parser stack overflow",
             "LIKE or GLOB pattern too complex", "string or blob too big")  # fmt: skip


@dataclass(frozen=True)
class SqlFilter:
    """A WHERE condition over `messages m` and its parameters."""

    where: str
    params: tuple[object, ...]


@contextmanager
def runnable() -> Iterator[None]:
    """Turn SQLite refusing a query for its size into a QueryError (a 400, never a 500)."""
    try:
        yield
    except sqlite3.Error as error:
        if not any(limit in str(error) for limit in TOO_LARGE):
            raise
        raise QueryError(f"the query is too large to run ({error}); use fewer terms") from error


@dataclass(frozen=True)
class Lookup:
    """The ids of a query's matches read from one search table alone: no row of messages."""

    table: str
    id: str  # the id column
    where: str
    params: list[object]
    group: str = ""  # " GROUP BY id" where an id can come more than once

    def ids(self, before: int | None, after: int | None, select: str = "") -> Sql:
        """Return SQL selecting the matching ids between the bounds (deleted ones left out)."""
        bounds = [(f" AND {self.id} < ?", before), (f" AND {self.id} > ?", after)]
        where = "".join(clause for clause, value in bounds if value is not None)
        return (
            f"SELECT {select or self.id} FROM {self.table} WHERE {self.where}{where}"
            f" AND {self.id} NOT IN (SELECT id FROM search_gone){self.group}",  # not yet purged
            [*self.params, *(value for _, value in bounds if value is not None)],
        )

    def count(self, after: int | None, before: int | None = None) -> Sql:
        """Return SQL counting the matching ids between the bounds."""
        if not self.group:
            return self.ids(before, after, "count(*)")
        ids, params = self.ids(before, after)
        return f"SELECT count(*) FROM ({ids})", params


def count_sql(
    query: Query | None, inbox: str | None, after: int | None = None, before: int | None = None
) -> Sql:
    """Return SQL counting the messages that match (between the id bounds, exclusive)."""
    lookup = index_lookup(query, inbox)
    if lookup is not None:  # the index alone answers: no lookup of each match in messages
        return lookup.count(after, before)
    where, params = message_filters(query, inbox, before, after)
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
    lookup = index_lookup(query, inbox)
    if lookup is not None:  # the newest `limit` ids from the index, then only their rows
        ids, params = lookup.ids(before, after)
        return (
            f"SELECT {columns} FROM messages m WHERE m.id IN ({ids} ORDER BY {lookup.id} DESC"
            " LIMIT ?) ORDER BY m.id DESC",
            [*params, limit],
        )
    where, params = message_filters(query, inbox, before, after)
    return f"SELECT {columns} FROM messages m {where} ORDER BY m.id DESC LIMIT ?", [*params, limit]


def index_lookup(query: Query | None, inbox: str | None) -> Lookup | None:
    """Return how to read the matches from one index when the query allows it, else None.

    Indexed text terms alone (under AND and OR) are one MATCH of the full-text index; one
    address filter alone is a lookup in message_addresses. Measured on 100,000 messages, a
    word in half of them: 13 ms to count in the index against 54 ms to look every match up in
    messages; a domain of a fifth of the senders: 12 ms against 55 ms.
    """
    if inbox is not None or query is None or query.root is None:
        return None
    root = query.root
    fts = _fts_expr(root)
    if fts is not None:
        return Lookup("message_fts", "rowid", "message_fts MATCH ?", [fts])
    if isinstance(root, Term) and root.field in ADDRESS_KINDS:
        where, params = _address_where(root)
        return Lookup("message_addresses", "message_id", where, params, " GROUP BY message_id")
    return None


def message_filters(
    query: Query | None,
    inbox: str | None,
    before: int | None = None,
    after: int | None = None,
) -> Sql:
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
    return ("WHERE " + " AND ".join(clauses) if clauses else "", params)


def to_sql(query: Query) -> SqlFilter:
    """Translate a parsed query into one WHERE condition over `messages m`."""
    if query.root is None:
        return SqlFilter("1", ())
    where, params = _node_sql(query.root)
    return SqlFilter(where, tuple(params))


def _node_sql(node: Node) -> Sql:
    fts = _fts_expr(node)
    if fts is not None:
        return FTS_IN, [fts]
    if isinstance(node, Term):
        return TERM_SQL[node.field](node)
    if isinstance(node, Not):
        where, params = _node_sql(node.node)
        return f"NOT {where}", params  # a comparison, or a join in parentheses
    op = "AND" if isinstance(node, And) else "OR"
    indexed: list[str] = []
    parts: list[Sql] = []
    for child in node.nodes:
        expr = _fts_expr(child)
        if expr is None:
            parts.append(_node_sql(child))
        else:
            indexed.append(expr)
    if indexed:  # the indexed terms of this level in one MATCH
        parts.insert(0, (FTS_IN, [f" {op} ".join(indexed)]))
    return _join(op, parts)


def _join(op: str, parts: list[Sql]) -> Sql:
    """Join conditions with AND or OR, at most CHUNK per level of parentheses."""
    if len(parts) > CHUNK:
        size = -(-len(parts) // CHUNK)
        parts = [_join(op, parts[i : i + size]) for i in range(0, len(parts), size)]
    if len(parts) == 1:
        return parts[0]
    return "(" + f" {op} ".join(w for w, _ in parts) + ")", [p for _, ps in parts for p in ps]


def _fts_expr(node: Node, depth: int = 0) -> str | None:
    """Return the MATCH expression for a node made only of indexed text terms, else None."""
    if isinstance(node, Term):
        if node.field not in TEXT_COLUMNS or len(node.value) < TRIGRAM:
            return None
        phrase = '"' + node.value.replace('"', '""') + '"'
        return phrase if node.field == "text" else f"{TEXT_COLUMNS[node.field][0]} : {phrase}"
    if isinstance(node, Not) or depth == FTS_DEPTH:
        return None  # FTS5 has no unary NOT: negations are SQL
    parts = []
    for child in node.nodes:
        expr = _fts_expr(child, depth + 1)
        if expr is None:
            return None
        parts.append(expr)
    return "(" + (" AND " if isinstance(node, And) else " OR ").join(parts) + ")"


# -- one term (before negation) --------------------------------------------------------------


def _text_sql(term: Term) -> Sql:
    """Match a term too short for the trigram index, with instr() over the folded text."""
    columns = TEXT_COLUMNS[term.field]
    found = " OR ".join(f"instr({column}, ?)" for column in columns)
    return f"m.id IN (SELECT id FROM message_text WHERE {found})", [term.value] * len(columns)


def _address_sql(term: Term) -> Sql:
    where, params = _address_where(term)
    return f"m.id IN (SELECT message_id FROM message_addresses WHERE {where})", params


def _address_where(term: Term) -> Sql:
    """Return the condition on message_addresses for an address filter."""
    kinds = ", ".join(f"'{kind}'" for kind in ADDRESS_KINDS[term.field])
    where, params = address_match(term.value)
    return f"field IN ({kinds}) AND {where}", params


def address_match(pattern: str) -> Sql:
    """Return a condition on message_addresses for an address or a `*` glob (lowercased).

    A glob is looked up by its longer literal end: `noreply@*` as a range of addresses,
    `*@shop.example` as a range of reversed addresses; GLOB then checks the rest, if any.
    """
    if "*" not in pattern:
        return "address = ?", [pattern]
    head, tail = pattern.split("*", 1)[0], pattern.rsplit("*", 1)[1]
    column, glob, prefix = ("address", pattern, head)
    if len(tail) > len(head):
        column, glob, prefix = ("reversed", pattern[::-1], tail[::-1])
    escaped = glob.replace("[", "[[]").replace("?", "[?]")  # only * is a wildcard here
    upper = _after_prefix(prefix)
    if upper is None:
        return f"{column} GLOB ?", [escaped]
    if glob == prefix + "*":  # the range says it all (a domain: `*@shop.example`)
        return f"{column} >= ? AND {column} < ?", [prefix, upper]
    return f"{column} >= ? AND {column} < ? AND {column} GLOB ?", [prefix, upper, escaped]


def _after_prefix(prefix: str) -> str | None:
    """Return the least string above every string that starts with prefix (None: no bound)."""
    while prefix and ord(prefix[-1]) == 0x10FFFF:
        prefix = prefix[:-1]
    if not prefix:
        return None
    following = ord(prefix[-1]) + 1
    following = 0xE000 if 0xD800 <= following < 0xE000 else following  # no surrogates
    return prefix[:-1] + chr(following)


def _header_sql(term: Term) -> Sql:
    if not term.value:
        return "m.id IN (SELECT message_id FROM message_headers WHERE name = ?)", [term.header]
    return (
        "m.id IN (SELECT message_id FROM message_headers WHERE name = ? AND value = ?)",
        [term.header, term.value],
    )


def _tag_sql(term: Term) -> Sql:
    # tag names compare without case: the column is COLLATE NOCASE
    return (
        "m.id IN (SELECT mt.message_id FROM message_tags mt JOIN tags t ON t.id = mt.tag_id"
        " WHERE t.name = ?)",
        [term.value],
    )


def _flag_sql(term: Term) -> Sql:
    return FLAG_SQL[(term.field, term.value)], []


def _column_sql(term: Term) -> Sql:
    value = int(term.value) if term.field in ("larger", "smaller") else term.value
    return COLUMNS[term.field], [value]


# The SQL of each field's terms (query.py's fields.FIELDS reads them).
TERM_SQL: dict[str, Callable[[Term], Sql]] = {
    **dict.fromkeys(TEXT_COLUMNS, _text_sql),
    **dict.fromkeys(ADDRESS_KINDS, _address_sql),
    **dict.fromkeys(COLUMNS, _column_sql),
    "header": _header_sql,
    "tag": _tag_sql,
    "is": _flag_sql,
    "has": _flag_sql,
}

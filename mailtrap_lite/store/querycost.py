"""How much one search may ask of the database: a cap on its terms and their nesting.

Each term of a query is a pass of its own over the index or the text (a negated or short
term cannot use the index's shortcuts): a 100-term query took 44 s over 2,000 messages of
50 KB, about 0.45 s a term. Parentheses cost a level of recursion each, in the parser, in
the SQL translations and in SQLite's own parser, whose fixed stack overflowed at 19 levels of
`-(a -(b -(...)))`. A query is checked before any term is read, let alone run, and one over
a cap is a 400 that says which cap and where; what passes may still be stopped by the time
limit of the store (`--query-timeout`). The check takes counts, not a parsed query, so any
parser can call it.
"""

from __future__ import annotations

MAX_TERMS = 20  # terms (words, phrases, filters), negated ones included
# Levels of parentheses around a term (a query without any has depth 0). Every form nested
# this deep runs on the store (tests/test_fuzz_query.py).
MAX_NESTING = 12


def cost_error(terms: int, depth: int = 0) -> str | None:
    """Return why a query with this many terms and this nesting is refused, or None."""
    if terms > MAX_TERMS:
        return f"a search takes at most {MAX_TERMS} terms, this one has {terms}"
    if depth > MAX_NESTING:
        return f"parentheses nested deeper than {MAX_NESTING}"
    return None

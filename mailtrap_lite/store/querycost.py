"""How much one search may ask of the database: a cap on its terms and their nesting.

Each term of a query is a pass of its own over the index or the text (a negated or short
term cannot use the index's shortcuts): a 100-term query took 44 s over 2,000 messages of
50 KB, about 0.45 s a term. A query is checked before any SQL runs, and one over a cap is a
400 that says which cap; what passes may still be stopped by the time limit of the store
(`--query-timeout`). The check takes counts, not a parsed query, so any parser can call it.
"""

from __future__ import annotations

MAX_TERMS = 20  # terms (words, phrases, filters), negated ones included
MAX_DEPTH = 5  # levels of parentheses around a term (a query without any has depth 0)


def cost_error(terms: int, depth: int = 0) -> str | None:
    """Return why a query with this many terms and this nesting is refused, or None."""
    if terms > MAX_TERMS:
        return f"a search takes at most {MAX_TERMS} terms, this one has {terms}"
    if depth > MAX_DEPTH:
        return f"a search nests parentheses at most {MAX_DEPTH} deep, this one {depth}"
    return None

"""The search language of INTERFACE.md, parsed into a tree of terms (no SQL here: see search.py).

    invoice OR receipt from:@shop.example -is:read after:2024-05-01 "order #1042"
    (from:ann@example.com OR from:*.corp.example) filename:.pdf -(is:read OR larger:1M)

Terms side by side must all hold (AND, which may also be written out); `OR` between two means
either; AND binds tighter, so `a b OR c` is `(a b) OR c`; parentheses group and `-` negates a
term or a group. `OR` and `AND` are operators in capitals only; quote them, or parentheses, to
search for them. A field takes a quoted phrase (`subject:"hello world"`).

Values come out normalized for their field, so every backend compares them as they are:
free words, phrases, `subject:` and `filename:` folded (folding.fold); addresses lowercased,
a domain written as the glob of its addresses (`shop.example` -> `*@shop.example`); dates as
RFC 3339 UTC instants (a date means its 00:00 UTC); sizes in bytes (K = 1024, M = 1024²).
Every QueryError of the parser says the position that failed. A query takes at most
MAX_TERMS terms and MAX_NESTING levels of parentheses (querycost.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mailtrap_lite.store.fields import read_term
from mailtrap_lite.store.querycost import MAX_NESTING, MAX_TERMS, cost_error
from mailtrap_lite.store.querytree import And, Node, Not, Or, QueryError, Term

__all__ = [
    "MAX_NESTING",
    "MAX_TERMS",
    "And",
    "Node",
    "Not",
    "Or",
    "Query",
    "QueryError",
    "Term",
    "parse_query",
]

OPERATORS = ("OR", "AND")
QUOTE_HINT = 'quote a phrase to search for "(" or ")"'


@dataclass(frozen=True)
class Query:
    """A parsed query: a tree of terms, or nothing (every message matches)."""

    root: Node | None

    def __bool__(self) -> bool:
        return self.root is not None

    def terms(self) -> Iterator[Term]:
        """Yield every term of the tree, left to right."""
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, Term):
                yield node
            elif isinstance(node, Not):
                stack.append(node.node)
            else:
                stack.extend(reversed(node.nodes))


def parse_query(text: str) -> Query:
    """Parse the search language; raise QueryError saying where it failed."""
    _check_characters(text)
    tokens = _tokens(text)
    _check_cost(tokens)
    return Query(_Parser(tokens).parse() if tokens else None)


def _check_characters(text: str) -> None:
    if "\x00" in text:  # FTS5 reads its query as a C string: a NUL would cut it short
        raise QueryError("NUL character", text.index("\x00"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise QueryError("a character that is not Unicode text (a lone surrogate)",
                         error.start) from None  # fmt: skip


# -- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A piece of the query: "word", "(", ")", "-", "OR" or "AND", and where it starts."""

    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[Token]:
    """Split the query into words (quotes keep spaces and parentheses) and operators."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token(char, char, i))
            i += 1
        elif char == "-":
            if i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("nothing to negate after '-'", i)
            tokens.append(Token("-", char, i))
            i += 1
        else:
            end = _word_end(text, i)
            word = text[i:end]
            negated = bool(tokens) and tokens[-1].kind == "-" and tokens[-1].at == i - 1
            kind = word if word in OPERATORS and not negated else "word"  # -OR is a word
            tokens.append(Token(kind, word, i))
            i = end
    return tokens


def _word_end(text: str, start: int) -> int:
    """Return where the word starting at `start` ends (outside quotes: space or parenthesis)."""
    quoted_at: int | None = None
    i = start
    while i < len(text):
        char = text[i]
        if quoted_at is None and (char.isspace() or char in "()"):
            break
        if char == "\\" and quoted_at is not None:
            i += 1  # an escaped character inside quotes
        elif char == '"':
            quoted_at = i if quoted_at is None else None
        i += 1
    if quoted_at is not None:
        raise QueryError("unterminated quote", quoted_at, len(text) - quoted_at,
                         f"{text[quoted_at:]!r} has no closing quote")  # fmt: skip
    return min(i, len(text))


def _check_cost(tokens: list[Token]) -> None:
    """Refuse a query over querycost's caps, pointing at the term or "(" past the cap.

    Every word token is one term and every "(" one level deeper, so the caps are checked on
    the tokens, before a term is read; the parser then never recurses past MAX_NESTING.
    """
    words = [token for token in tokens if token.kind == "word"]
    too_many = cost_error(len(words))
    if too_many is not None:
        first_over = words[MAX_TERMS]
        raise QueryError(too_many, first_over.at, len(first_over.text))
    depth = 0
    for token in tokens:
        if token.kind == ")":
            depth = max(depth - 1, 0)  # an unmatched ")" is the parser's error to report
        elif token.kind == "(":
            depth += 1
            too_deep = cost_error(0, depth)
            if too_deep is not None:
                raise QueryError(too_deep, token.at)


# -- tree ------------------------------------------------------------------------------------


class _Parser:
    """Read tokens into a tree, by recursive descent over this grammar.

    or := and ("OR" and)*;  and := unary (["AND"] unary)*;  unary := "-"* ("(" or ")" | term)
    """

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.next = 0

    def peek(self) -> Token | None:
        return self.tokens[self.next] if self.next < len(self.tokens) else None

    def parse(self) -> Node:
        node = self._or(None)
        extra = self.peek()
        if extra is not None:  # only a ")" stops the top level early
            raise QueryError("unmatched ')'", extra.at, hint=QUOTE_HINT)
        return node

    def _or(self, opener: Token | None) -> Node:
        nodes = [self._and_or_fail(opener, None)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.next += 1
            nodes.append(self._and_or_fail(opener, token))
        return _combine(Or, nodes)

    def _and_or_fail(self, opener: Token | None, after_or: Token | None) -> Node:
        node = self._and()
        if node is not None:
            return node
        token = self.peek()
        if after_or is not None:
            raise QueryError("OR needs a term after it", after_or.at, 2)
        if token is not None and token.kind == "OR":
            raise QueryError("OR needs a term before it", token.at, 2)
        if opener is None:
            assert token is not None  # an empty query has no tokens and is not parsed
            raise QueryError("unmatched ')'", token.at, hint=QUOTE_HINT)
        if token is None:
            raise QueryError("unclosed '('", opener.at, hint=QUOTE_HINT)
        raise QueryError("empty parentheses", opener.at, token.at - opener.at + 1, QUOTE_HINT)

    def _and(self) -> Node | None:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind != "AND":
                nodes.append(self._unary())
                continue
            self.next += 1
            following = self.peek()
            if not nodes or following is None or following.kind in (*OPERATORS, ")"):
                raise QueryError("AND needs a term on each side", token.at, 3)
        return _combine(And, nodes) if nodes else None

    def _unary(self) -> Node:
        negations = 0
        while (token := self.peek()) is not None and token.kind == "-":
            negations += 1
            self.next += 1
        node = self._primary()
        return Not(node) if negations % 2 else node

    def _primary(self) -> Node:
        token = self.tokens[self.next]  # the tokenizer puts a word or "(" after every "-"
        self.next += 1
        if token.kind != "(":
            return read_term(token.text, token.at)
        node = self._or(token)  # _check_cost bounds how deep this recursion goes
        if self.peek() is None:
            raise QueryError("unclosed '('", token.at, hint=QUOTE_HINT)
        self.next += 1  # the ")"
        return node


def _combine(kind: type[And] | type[Or], nodes: list[Node]) -> Node:
    """Return one node, or `kind` of them with nested ones of the same kind flattened."""
    if len(nodes) == 1:
        return nodes[0]
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.nodes if isinstance(node, kind) else (node,))
    return kind(tuple(flat))

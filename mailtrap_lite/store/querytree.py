"""A parsed query: terms and the operators over them, and the error a bad query raises."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["And", "Node", "Not", "Or", "QueryError", "Term"]


class QueryError(ValueError):
    """A query that cannot be parsed (or run); the message says where and why.

    `position` (1-based) and `length` point at the part that failed; `position` is None only
    for a query that parsed but is too large for the database to run.
    """

    def __init__(self, what: str, at: int | None = None, length: int = 1, hint: str = "") -> None:
        where = "" if at is None else f" at position {at + 1}"
        super().__init__(f"{what}{where}" + (f"; {hint}" if hint else ""))
        self.position = None if at is None else at + 1
        self.length = max(length, 1)


@dataclass(frozen=True)
class Term:
    """One term: its field ("text" for free words and phrases) and its normalized value."""

    field: str
    value: str
    at: int = 0  # where the term starts in the query (0-based)
    header: str | None = None  # the header name of header:Name=value


@dataclass(frozen=True)
class Not:
    """The negation of a term or a group (`-term`, `-(...)`)."""

    node: Node


@dataclass(frozen=True)
class And:
    """Nodes that must all hold (terms side by side)."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Nodes of which one must hold (`a OR b`)."""

    nodes: tuple[Node, ...]


Node = Term | Not | And | Or

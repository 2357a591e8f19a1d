"""The search language under fuzzing: the parser raises nothing but QueryError (saying where),
and every query it accepts runs on the Store; folding is stable.

The default profile runs a fixed, bounded set of examples; see tests/conftest.py for more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtrap_lite.store import Store
from mailtrap_lite.store.folding import fold
from mailtrap_lite.store.query import MAX_NESTING, QueryError, parse_query
from tests.searchcorpus import fill
from tests.stores import each_backend

# Pieces the language gives meaning to, glued in any order with or without spaces.
PIECES = ["koln", "ab", "é", "ﬁ", "OR", "AND", "or", "-", "(", ")", '"', "\\", ":", "*", "@",
          "from:", "to:", "cc:", "bcc:", "subject:", "filename:", "inbox:", "header:", "is:",
          "has:", "before:", "after:", "larger:", "smaller:", "read", "attachment", "=",
          "x-tag", "2024-05-01", "1.5K", "9" * 30, "shop.example", "*.shop.example", "a@b.c",
          "noreply*@*", "[", "?", "%", "_", "'", "\x00", "\u0301", "\u30fc", " ", "\t"]  # fmt: skip
queries = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=14).map("".join)
# Wrappers that each add one level of parentheses, in the forms that cost SQL engines most.
WRAPPERS = ["({q})", "-({q})", "(a{i} OR {q})", "({q} OR a{i})", "(abc{i} -{q})",
            "(to:x@y OR -{q})", "(-abc{i} OR -{q} OR from:*.x)", "-(is:read {q} -inbox:x)",
            "(filename:pd{i} OR subject:x{i} {q})"]  # fmt: skip


@pytest.fixture(scope="module", params=each_backend())
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened: Store = request.param()
    fill(opened)
    yield opened
    opened.close()


def parsed_or_located(text: str) -> object:
    """Parse; a QueryError must point inside the query (1-based, at most one past its end)."""
    try:
        return parse_query(text)
    except QueryError as error:
        assert error.position is not None and 1 <= error.position <= len(text) + 1, error
        return None


@given(st.text())
def test_parser_raises_only_query_errors_saying_where(text: str) -> None:
    parsed_or_located(text)


@given(queries)
def test_every_accepted_query_runs_on_the_store(store: Store, text: str) -> None:
    query = parsed_or_located(text)
    if query is not None:
        page = store.list_messages(query=query)  # type: ignore[arg-type]
        assert page.total == store.count_messages(query)  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(WRAPPERS), min_size=MAX_NESTING, max_size=MAX_NESTING),
       st.sampled_from(["koln", "ab", "-to:a@b", "from:*@x", "x OR -y"]))  # fmt: skip
def test_queries_nested_as_deep_as_allowed_run_on_the_store(
    store: Store, wrappers: list[str], leaf: str
) -> None:
    text = leaf
    for i, wrapper in enumerate(wrappers):
        text = wrapper.format(q=text, i=i)
    store.count_messages(parse_query(text))


def test_nesting_deeper_than_allowed_is_refused_where_it_goes_too_deep() -> None:
    text = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    with pytest.raises(QueryError, match="nested deeper") as caught:
        parse_query(text)
    assert caught.value.position == MAX_NESTING + 1


def test_lone_surrogate_is_a_query_error() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("ok \ud800")
    assert caught.value.position == 4


@given(st.text())
def test_folding_twice_changes_nothing(text: str) -> None:
    assert fold(fold(text)) == fold(text)

"""The parser's tree: precedence, grouping, negation, normalized values, positions."""

from __future__ import annotations

import pytest

from mailtrap_lite.store.query import And, Not, Or, Term, parse_query


def text(value: str, at: int) -> Term:
    return Term("text", value, at)


def test_and_binds_tighter_than_or() -> None:
    assert parse_query("a b OR c").root == Or((And((text("a", 0), text("b", 2))), text("c", 7)))


def test_parentheses_group_and_a_written_and_means_a_space() -> None:
    group = Or((text("a", 1), text("b", 6)))
    assert parse_query("(a OR b) AND c").root == And((group, text("c", 13)))
    assert parse_query("(a OR b) c").root == And((group, text("c", 9)))


def test_nested_groups_of_one_kind_are_flattened() -> None:
    assert parse_query("a OR (b OR (c))").root == Or((text("a", 0), text("b", 6), text("c", 12)))


def test_minus_negates_a_term_or_a_group_and_twice_cancels() -> None:
    assert parse_query("-a").root == Not(text("a", 1))
    assert parse_query("-(a OR b)").root == Not(Or((text("a", 2), text("b", 7))))
    assert parse_query("--a").root == text("a", 2)


@pytest.mark.parametrize(("query", "word"), [("or", "or"), ('"OR"', "or"), ("-OR", "or"),
                                             ("Or", "or"), ("a-b", "a-b")])  # fmt: skip
def test_operators_are_words_unless_written_in_capitals_alone(query: str, word: str) -> None:
    assert [t.value for t in parse_query(query).terms()] == [word]


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ("from:shop.example", "from", "*@shop.example"),
        ("from:@Shop.Example", "from", "*@shop.example"),
        ("to:*.shop.example", "to", "*@*.shop.example"),
        ("cc:Ann@Example.com", "cc", "ann@example.com"),
        ('bcc:"Ann <ann@example.com>"', "bcc", "ann@example.com"),
        ("to:noreply*@*", "to", "noreply*@*"),
        ("subject:GRÜSSE", "subject", "grusse"),
        ("filename:*.PDF*", "filename", ".pdf"),
        ("Köln", "text", "koln"),
        ("has:attachments", "has", "attachment"),
        ("larger:1.5K", "larger", "1536"),
        ("after:2024-05-01", "after", "2024-05-01T00:00:00.000Z"),
    ],
)
def test_values_come_out_normalized_for_their_field(query: str, field: str, value: str) -> None:
    [term] = parse_query(query).terms()
    assert (term.field, term.value) == (field, value)


def test_terms_are_listed_left_to_right_with_their_positions() -> None:
    found = [(t.value, t.at) for t in parse_query("x (y OR -z) w").terms()]
    assert found == [("x", 0), ("y", 3), ("z", 9), ("w", 12)]


def test_empty_query_matches_everything() -> None:
    assert not parse_query("   ") and list(parse_query("").terms()) == []

"""MAIL and RCPT paths are parsed exactly as aiosmtpd parses them, minus its crash."""

from __future__ import annotations

import types

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from mailtrap_lite.smtp.paths import parse_path

PATH_ALPHABET = st.sampled_from(list('<>@."\\ ()[]:;,=abcXYZ09-_\t') + ["é", "\0", "\x7f"])


def aiosmtpd_getaddr(arg: str) -> tuple[str | None, str | None]:
    """aiosmtpd's own parser; local_part_limit 0 is its default (no limit)."""
    return SMTP._getaddr(types.SimpleNamespace(local_part_limit=0), arg)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arg",
    [
        "",
        "<>",
        "<a@example.com>",
        "<a@example.com> SIZE=100 BODY=8BITMIME",
        "a@example.com",
        '<"quoted local"@example.com>',
        "<@relay.example:a@example.com>",
        "<dörte@bücher.example>",
        "not an address",
        "<unterminated@example.com",
    ],
)
def test_known_paths_parse_like_aiosmtpd(arg: str) -> None:
    assert parse_path(arg) == aiosmtpd_getaddr(arg)


@given(st.text(PATH_ALPHABET, max_size=40))
def test_any_path_parses_like_aiosmtpd_or_is_refused_where_it_crashes(arg: str) -> None:
    try:
        expected = aiosmtpd_getaddr(arg)
    except (IndexError, ValueError):
        expected = (None, None)  # aiosmtpd's client would get a 451 "error in processing"
    assert parse_path(arg) == expected


def test_a_crashing_path_is_refused() -> None:
    assert parse_path("\0@") == (None, None)

"""Folding: how search compares text, the same when indexing and when querying, on every
backend (a table of inputs and what they fold to)."""

from __future__ import annotations

import pytest

from mailtrap_lite.store.folding import fold, fold_address

FOLDED = [
    ("Köln", "koln"),
    ("KÖLN", "koln"),
    ("Straße", "strasse"),
    ("ẞ", "ss"),
    ("ÉCOLE", "ecole"),
    ("naïve café", "naive cafe"),
    ("crème brûlée", "creme brulee"),
    ("e\u0301", "e"),  # a combining accent written on its own
    ("Łódź", "lodz"),
    ("Ørsted", "orsted"),
    ("Æsir", "aesir"),
    ("œuvre", "oeuvre"),
    ("Þór", "thor"),
    ("ﬁle", "file"),  # a ligature
    ("Ｆｕｌｌ", "full"),  # full-width letters
    ("①²", "12"),
    ("ℌello", "hello"),  # a compatibility form that decomposes into a capital
    ("İstanbul", "istanbul"),
    ("ΌΣΟΣ", "οσοσ"),
    ("Ёлка", "елка"),
    ("がぎ", "がぎ"),  # kana keep their voicing marks
    ("한국어", "한국어"),  # Hangul syllables stay whole
    ("नमस्ते", "नमस्ते"),  # Devanagari keeps its vowel signs
    ("MiXeD Ascii 123", "mixed ascii 123"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), FOLDED, ids=[t or "empty" for t, _ in FOLDED])
def test_text_folds_to_what_people_type(text: str, expected: str) -> None:
    assert fold(text) == expected


ADDRESSES = [
    ("Ann@Example.COM", "ann@example.com"),
    ("JÖRG@Example.de", "jörg@example.de"),  # accents make another mailbox: kept
    ("Straße@example.de", "straße@example.de"),
]


@pytest.mark.parametrize(("address", "expected"), ADDRESSES)
def test_address_folds_case_only(address: str, expected: str) -> None:
    assert fold_address(address) == expected

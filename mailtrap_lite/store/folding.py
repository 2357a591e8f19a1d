"""How search compares text: one folding, applied when indexing and when querying.

Every backend stores text folded by `fold` and folds the query's words the same way, so a
search gives the same answer on each: SQL engines fold differently (SQLite's trigram
tokenizer refuses `remove_diacritics`; PostgreSQL's `lower()` and `unaccent` depend on the
cluster's locale and dictionary), so no backend folds in SQL.

`fold` removes the diacritics of Latin, Greek and Cyrillic letters (Köln -> koln, ÉCOLE ->
ecole), folds case the Unicode way (Straße -> strasse), and spells compatibility forms out
(the ligature ﬁ -> fi, full-width Ａ -> a). Marks that change a letter in other scripts (kana
voicing, Indic vowel signs) stay. Addresses are compared whole and exactly but for case
(`fold_address`): jörg@ and joerg@ are different mailboxes.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "fold_address"]

# The combining diacritical marks that Latin, Greek and Cyrillic letters decompose into
# (Unicode blocks: Combining Diacritical Marks, ... Extended, ... Supplement, ... for
# Symbols, Combining Half Marks).
_MARK_BLOCKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                (0xFE20, 0xFE2F))  # fmt: skip
# Letters that carry their diacritic without decomposing (Unicode gives them no
# decomposition), folded as people type them without it; ß is folded to "ss" by casefold.
_PLAIN_LETTERS = {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "ı": "i",
                  "ŀ": "l", "ƀ": "b", "ƶ": "z", "æ": "ae", "œ": "oe", "þ": "th"}  # fmt: skip
_TABLE: dict[int, str | None] = {
    **{code: None for low, high in _MARK_BLOCKS for code in range(low, high + 1)},
    **{ord(letter): plain for letter, plain in _PLAIN_LETTERS.items()},
}


def fold(text: str) -> str:
    """Return text as search compares it: no diacritics, case folded, compatibility forms out."""
    if text.isascii():
        return text.lower()  # the same as the general path, for most mail at a fraction
    # Decomposed before case folding too: some compatibility forms decompose into capitals
    # (the Fraktur ℌ into H); case folding can in turn yield decomposable letters (İ).
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    # NFC recomposes what the marks left (Hangul syllables, kana with their voicing marks).
    return unicodedata.normalize("NFC", decomposed.translate(_TABLE))


def fold_address(address: str) -> str:
    """Return an address as address filters compare it: whole, case-insensitive."""
    return address.lower()

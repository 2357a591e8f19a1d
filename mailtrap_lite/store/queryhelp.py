"""The search language's help: one table that the UI's `?` help and README.md both show.

The UI renders SEARCH_HELP; README.md's search table is `markdown_table()` word for word, and
tests/test_search_help.py checks both, that every example parses and that every filter, flag
and operator of the language has an example here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailtrap_lite.store.querycost import MAX_NESTING, MAX_TERMS

__all__ = ["SEARCH_HELP", "HelpRow", "markdown_table"]

_CODE = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class HelpRow:
    """Examples of one part of the language and what they match (`code` in backticks)."""

    examples: tuple[str, ...]
    meaning: str

    def meaning_parts(self) -> list[tuple[str, bool]]:
        """Split the meaning into (text, is_code) pieces, for HTML."""
        pieces = _CODE.split(self.meaning)  # odd indexes were between backticks
        return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]

    def markdown(self) -> str:
        examples = ", ".join(f"`{example}`" for example in self.examples)
        return f"| {examples} | {self.meaning} |"


SEARCH_HELP = (
    HelpRow(("invoice", '"order #1042"'),
            "a substring of the subject, the addresses and display names, the body text or an"
            " attachment's file name; any case, accents ignored (`koln` finds Köln)"),
    HelpRow(("subject:welcome", 'subject:"your order"'),
            "a substring of the subject (any case, accents ignored)"),
    HelpRow(("filename:invoice", "filename:*.pdf"),
            "part of an attachment's file name (`*` only at its ends)"),
    HelpRow(("from:ann@example.com",),
            "the From header or the envelope sender: the whole address, any case"),
    HelpRow(("to:ann@example.com",),
            "the To header or an envelope recipient (so `to:a@example.com` never matches"
            " `ba@example.com`)"),
    HelpRow(("cc:ann@example.com", "bcc:ann@example.com"),
            "the Cc header; envelope recipients absent from To and Cc"),
    HelpRow(("from:shop.example", "to:@shop.example"),
            "any address at that domain, not at its subdomains (in every address filter)"),
    HelpRow(("from:*.shop.example", "to:noreply*@*"),
            "`*` matches any characters: addresses at subdomains of shop.example; noreply"
            " addresses at any domain"),
    HelpRow(("header:X-Campaign=spring", "header:X-Tag"),
            "a header's decoded value, exactly; or that the header is present"),
    HelpRow(("inbox:team",), "the inbox (the SMTP AUTH user)"),
    HelpRow(("tag:signup", 'tag:"needs review"'), "a tag, by name, any case"),
    HelpRow(("is:read", "is:unread", "is:tagged", "has:attachment"),
            "flags (is:tagged: the message has any tag)"),
    HelpRow(("after:2024-05-01", "before:2024-06-01"),
            "received on or after / before that day, 00:00 UTC (an ISO date-time is taken as"
            " is)"),
    HelpRow(("larger:100K", "smaller:2M"), "size in bytes, strictly (K = 1024, M = 1024²)"),
    HelpRow(("invoice receipt", "invoice AND receipt"), "both: terms side by side all match"),
    HelpRow(("invoice OR receipt",),
            "either; AND binds tighter than OR, so `a b OR c` means `(a b) OR c`"),
    HelpRow(("(invoice OR receipt) from:shop.example",),
            f"parentheses group terms, at most {MAX_NESTING} deep; a search takes at most"
            f" {MAX_TERMS} terms"),
    HelpRow(("-has:attachment", "-(is:read OR from:shop.example)"),
            "not: leaves out what a term or a group matches"),
    HelpRow(('"OR"', '"f(x)"'),
            "quotes make `OR`, `AND` and parentheses plain text to search for"),
)  # fmt: skip


def markdown_table() -> str:
    """Return SEARCH_HELP as README.md's Markdown table."""
    rows = [row.markdown() for row in SEARCH_HELP]
    return "\n".join(["| term | matches |", "|---|---|", *rows])

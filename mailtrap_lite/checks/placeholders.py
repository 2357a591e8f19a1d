"""Unreplaced template placeholders: `{{ name }}`, `%FIRSTNAME%`, `Hello None,` and the like.

One of the commonest bugs of transactional mail: a variable the template engine did not fill
(or filled with null) reaches the recipient. The text people see is searched (subject, text
body, the HTML's visible text) and so are link targets, where `?token=None` or `/undefined`
breaks the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

# Template syntaxes of the common engines: Jinja/Django/Handlebars/Liquid, JavaScript and
# Java template literals, Python's str.format and %-formatting, Mailchimp merge tags,
# %NAME% (many ESPs; letters only, so "%E2%80" in a URL is not one), [[name]] (Zoho, others), ERB.
_SYNTAX = re.compile(
    r"\{\{[^{}\n]{0,80}\}\}|\{%[^\n]{0,80}?%\}|\$\{[^{}\n]{1,80}\}"
    r"|(?<![{$\w])\{[A-Za-z_][\w.]{0,40}\}(?!\})"
    r"|%[A-Z][A-Z_]{2,40}%|\[\[[^\[\]\n]{1,80}\]\]|\*\|[A-Z0-9_:]{1,40}\|\*"
    r"|%\([A-Za-z_]\w{0,40}\)[sdif]|<%=?[^%\n]{0,80}%>"
)
# Values of missing variables as languages print them. "None of ..." is ordinary English.
_NULL_WORD = re.compile(r"\bNone\b(?!\s+of\b)|\bundefined\b|\bnull\b|\bNaN\b|\[object Object\]")
# In a link: a path segment or query value that is a null value.
_NULL_IN_URL = re.compile(r"(?:[/=])(None|undefined|null|NaN)(?=$|[/?&#;])")
CONTEXT = 24  # characters shown on each side of a finding


@dataclass(frozen=True)
class Placeholder:
    """One placeholder found: what, where, and the text around it."""

    token: str
    where: str  # "subject", "text body", "HTML", "link"
    context: str

    def describe(self) -> str:
        return f"{self.token!r} in the {self.where}: …{self.context}…"


def find_placeholders(where: str, text: str) -> list[Placeholder]:
    """Return the placeholders in text people read, in order."""
    matches = sorted(
        (m for p in (_SYNTAX, _NULL_WORD) for m in p.finditer(text)), key=lambda m: m.start()
    )
    return [Placeholder(m.group(), where, _context(text, m)) for m in matches]


def find_in_url(url: str) -> list[Placeholder]:
    """Return the placeholders in a link target (template syntax or a null value)."""
    readable = unquote(url)  # "%7B%7Bname%7D%7D" is "{{name}}" once decoded
    syntax = [Placeholder(m.group(), "link", url) for m in _SYNTAX.finditer(readable)]
    nulls = [Placeholder(m.group(1), "link", url) for m in _NULL_IN_URL.finditer(readable)]
    return syntax + nulls


def _context(text: str, match: re.Match[str]) -> str:
    start, end = max(0, match.start() - CONTEXT), match.end() + CONTEXT
    return " ".join(text[start:end].split())

"""HTML to plain text, for snippets and search (not for display). Pure functions, no I/O.

The patterns run in linear time: "<[^>]*>" and a lazy "<script.*?</script>" both rescan to
the end of the text from every unclosed "<" and took minutes on 1 MB of "<script " (quadratic).
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^<>]*>")
_BLOCK_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_BLOCK_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style")}


def html_to_text(markup: str) -> str:
    """Strip tags and decode entities; good enough for snippets and search, not display."""
    return html.unescape(_TAG.sub(" ", _drop_blocks(markup)))


def _drop_blocks(markup: str) -> str:
    """Replace <script> and <style> elements with a space; an unclosed one runs to the end."""
    kept: list[str] = []
    pos = 0
    while match := _BLOCK_OPEN.search(markup, pos):
        kept.append(markup[pos : match.start()])
        close = _BLOCK_CLOSE[match.group(1).lower()].search(markup, match.end())
        if close is None:
            pos = len(markup)  # as browsers do: the element runs to the end of the document
            break
        pos = close.end()
    kept.append(markup[pos:])
    return " ".join(kept)

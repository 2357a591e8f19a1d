"""The Source tab: the message as received, with what a strict server would refuse marked
where it is (bare LF or CR line endings, NUL bytes, lines over 998 octets).

The same checks as the Warnings tab (mailtrap_lite.smtp.conformance); here they point at
the spot. Markers are empty elements whose label the stylesheet draws, so copying the source
copies exactly the text received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINE = 998  # RFC 5322 §2.1.1: at most 998 characters per line, excluding CRLF
MAX_MARKS = 1000  # beyond this many, the rest are counted, not marked (a page stays light)
_LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n|$)")
KINDS = {
    "long": "line over 998 octets",
    "lf": "bare LF",
    "cr": "bare CR",
    "nul": "NUL byte",
}


@dataclass(frozen=True)
class Chunk:
    """Text as received (kind None), or a marker of one problem with its note."""

    text: str
    kind: str | None = None
    note: str = ""


@dataclass
class SourceView:
    """The shown part of a message's source, cut into text and markers, and what was marked."""

    chunks: list[Chunk] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> how many found
    marked: int = 0

    def summary(self) -> list[str]:
        """Return "2 bare LF", "1 NUL byte"... for each kind found, in a stable order."""
        return [f"{self.counts[k]} × {name}" for k, name in KINDS.items() if self.counts.get(k)]


def source_view(raw: bytes) -> SourceView:
    """Cut the source into text and markers at each bare line ending, NUL and long line."""
    view = SourceView()
    text: list[bytes] = []
    number = 0
    for match in _LINE.finditer(raw):
        line, ending = match.group(1), match.group(2)
        if not line and not ending:
            break  # the empty match at the very end
        number += 1
        if len(line) > MAX_LINE:
            _mark(view, text, "long", f"line {number}: {len(line):,} octets")
        for n, piece in enumerate(line.split(b"\x00")):
            if n:
                _mark(view, text, "nul", "NUL")
            text.append(piece)
        if ending == b"\n":
            _mark(view, text, "lf", "LF")
        elif ending == b"\r":
            _mark(view, text, "cr", "CR")
        text.append(b"\n" if ending else b"")
    _flush(view, text)
    return view


def _mark(view: SourceView, text: list[bytes], kind: str, note: str) -> None:
    view.counts[kind] = view.counts.get(kind, 0) + 1
    if view.marked >= MAX_MARKS:
        return
    _flush(view, text)
    view.chunks.append(Chunk("", kind, note))
    view.marked += 1


def _flush(view: SourceView, text: list[bytes]) -> None:
    if text:
        view.chunks.append(Chunk(b"".join(text).decode("utf-8", "replace")))
        text.clear()

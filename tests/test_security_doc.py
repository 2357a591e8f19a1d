"""SECURITY.md points each claim at a test: every test it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def _references(text: str) -> list[tuple[str, str | None]]:
    """Return (file, test name or None); `::name` refers to the last file named before it."""
    found: list[tuple[str, str | None]] = []
    for paragraph in re.split(r"\n\n|\|", text):
        current = None
        for match in REFERENCE.finditer(paragraph):
            path, name, short = match.groups()
            current = path or current
            if current is not None:
                found.append((current, name or short))
    return found


def test_every_test_named_in_security_md_exists() -> None:
    references = _references((ROOT / "SECURITY.md").read_text(encoding="utf-8"))
    missing = [
        f"{path}::{name}" if name else path
        for path, name in references
        if not (ROOT / path).is_file()
        or (name is not None and f"def {name}(" not in (ROOT / path).read_text(encoding="utf-8"))
    ]
    assert len(references) > 40
    assert missing == []

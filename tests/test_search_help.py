"""The search help: one table (queryhelp.SEARCH_HELP) that the UI's `?` help and README.md
show word for word, covering the whole language with examples that parse."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mailtrap_lite.store.fields import FIELDS, FLAGS
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.queryhelp import SEARCH_HELP, markdown_table
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.apiserver import stored_app

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = [example for row in SEARCH_HELP for example in row.examples]


def readme_search_table() -> str:
    """Return the table under README.md's "### Search" heading."""
    section = README.read_text(encoding="utf-8").split("\n### Search\n", 1)[1]
    lines = section.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end])


def test_readme_search_table_is_the_help_table() -> None:
    assert readme_search_table() == markdown_table(), (
        "README.md's search table differs from mailtrap_lite/store/queryhelp.py; paste:\n"
        + markdown_table()
    )


class HelpText(HTMLParser):
    """Collect the text of the element with id="search-help"."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or ("id", "search-help") in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1 if self.depth else 0

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", ["/", "/sessions"])
def test_ui_help_shows_the_help_table(path: str) -> None:
    store = SQLiteStore()
    try:
        html = stored_app(store).test_client().get(path).get_data(as_text=True)
    finally:
        store.close()
    found = HelpText()
    found.feed(html)
    expected = " ".join(" ".join(row.examples) + " " + row.meaning.replace("`", "")
                        for row in SEARCH_HELP)  # fmt: skip
    assert _words("".join(found.text)) == _words(expected)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_help_example_parses(example: str) -> None:
    assert parse_query(example)


def test_help_has_an_example_of_every_filter_flag_and_operator() -> None:
    terms = {term for example in EXAMPLES for term in re.split(r"[\s()]+", example) if term}
    missing = [f"{field}:" for field in FIELDS
               if not any(t.lstrip("-").startswith(f"{field}:") for t in terms)]  # fmt: skip
    missing += [f"{name}:{value}" for name, values in FLAGS.items() for value in values
                if f"{name}:{value}" not in {t.lstrip("-") for t in terms}]  # fmt: skip
    missing += [op for op in ("OR", "AND", "(", "-", '"') if not any(op in e for e in EXAMPLES)]
    assert not missing, f"the help has no example of {missing}"

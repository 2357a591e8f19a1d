"""The search language, as a table: query -> the messages it matches, over a fixed corpus.

It runs against the Store interface (list_messages, count_messages) of every backend in
tests/stores.py, so each backend is held to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mailtrap_lite.store import Store
from mailtrap_lite.store.query import parse_query
from tests.searchcorpus import ALL, fill
from tests.stores import each_backend

CASES = [
    # free words and phrases: substrings of subject, addresses, body and file names
    ("order", {"order"}),
    ("ORDER", {"order"}),
    ("ipped", {"order"}),
    ('"order #1042"', {"order"}),
    ('"track it at"', {"order"}),
    ("thanks", {"order"}),
    ("https://shop.example.com/t/1042", {"order"}),
    ("ann@example.com", {"order", "invoice", "receipt"}),
    ("rechnung", {"receipt"}),
    ("xy", {"short"}),
    ("subject:order", {"order"}),
    ("subject:thanks", set()),
    ('subject:"weekly news"', {"news"}),
    ("subject:ok", {"short"}),
    ('subject:"OR final"', {"draft"}),
    ('"(f(x))"', {"draft"}),
    # folding: any case, accents ignored, the same for the query and the text
    ("koln", {"koeln"}),
    ("KÖLN", {"koeln"}),
    ("Köln", {"koeln"}),
    ("jorg", {"koeln"}),
    ("jörg", {"koeln"}),
    ("joerg", {"koeln"}),
    ("strasse", {"news"}),
    ("straße", {"news"}),
    ("STRASSE", {"news"}),
    ("cafe", {"news"}),
    ("naive", {"news"}),
    ("über", {"news"}),
    ("uber", {"news"}),
    ("subject:grusse", {"koeln"}),
    ("subject:GRÜSSE", {"koeln"}),
    ("lodzi", {"lodz"}),
    ("łódzi", {"lodz"}),
    ("oeuvre", {"lodz"}),
    ("orsted", {"lodz"}),
    ("final", {"lodz", "draft"}),
    ("zoe", {"lodz"}),
    ("é", ALL - {"short"}),  # a short word, folded like the rest: every "e"
    # attachment file names
    ("filename:invoice", {"invoice"}),
    ("filename:*.pdf", {"invoice", "receipt"}),
    ("filename:PDF", {"invoice", "receipt"}),
    ("filename:pd", {"invoice", "receipt"}),
    ("filename:marz", {"receipt"}),
    ('filename:"rechnung märz"', {"receipt"}),
    ("filename:logo.png", {"receipt"}),
    ("filename:payment", set()),
    ("-filename:pdf", ALL - {"invoice", "receipt"}),
    # whole addresses
    ("to:ann@example.com", {"order", "invoice", "receipt"}),
    ("to:a@example.com", set()),
    ("to:ba@example.com", {"news"}),
    ("to:BA@Example.COM", {"news"}),
    ("to:<ba@example.com>", {"news"}),
    ('to:"Bee <ba@example.com>"', {"news"}),
    ("to:audit@example.com", {"order"}),
    ("bcc:audit@example.com", {"order"}),
    ("bcc:ann@example.com", set()),
    ("from:shop@example.com", {"order"}),
    ("from:bounce@shop.example.com", {"order"}),
    ("cc:carol@example.com", {"koeln"}),
    ("-cc:carol@example.com", ALL - {"koeln"}),
    # domains and globs
    ("from:example.com", {"order", "invoice", "team"}),
    ("from:@example.com", {"order", "invoice", "team"}),
    ("from:shop.example", {"draft"}),
    ("from:SHOP.EXAMPLE", {"draft"}),
    ("from:*.shop.example", {"receipt"}),
    ("from:*shop.example", {"draft", "receipt"}),
    ("from:*.example.com", {"order"}),
    ("to:shop.example", {"lodz"}),
    ("to:*@example.com", {"order", "news", "invoice", "team", "receipt", "koeln"}),
    ("to:a*@example.com", {"order", "invoice", "receipt"}),
    ("from:noreply*@*", {"receipt"}),
    ("from:*", ALL),
    ("from:sh?rt@x.io", set()),  # only * is a wildcard
    ("cc:example.com", {"koeln"}),
    ("bcc:example.com", {"order"}),
    # headers, flags, inboxes, dates and sizes
    ("header:X-Campaign=spring-sale", {"order"}),
    ("header:x-campaign=spring", set()),
    ('header:X-Campaign="summer sale"', {"koeln"}),
    ('header:"X-Campaign=summer sale"', {"koeln"}),
    ("header:X-Campaign", {"order", "koeln"}),
    ("-header:X-Campaign", ALL - {"order", "koeln"}),
    ("is:read", {"news"}),
    ("is:unread", ALL - {"news"}),
    ("has:attachment", {"invoice", "receipt"}),
    ("-has:attachment", ALL - {"invoice", "receipt"}),
    ("inbox:team", {"team"}),
    ("-inbox:team", ALL - {"team"}),
    ("after:2024-05-03", ALL - {"order", "news"}),
    ("before:2024-05-03", {"order", "news"}),
    ("after:2024-05-01 before:2024-05-02", {"order"}),
    ("after:2024-05-02T23:59:59Z", ALL - {"order"}),
    ("larger:4K", {"invoice"}),
    ("smaller:4k", ALL - {"invoice"}),
    ("larger:1M", set()),
    # AND, OR, parentheses, negation
    ("-order", ALL - {"order"}),
    ("-(-order)", {"order"}),
    ("order to:ann@example.com -has:attachment", {"order"}),
    ("invoice -is:read", {"invoice"}),
    ("noon meeting", {"team"}),
    ("noon -meeting", set()),
    ("invoice receipt", set()),
    ("invoice AND may", {"invoice"}),
    ("invoice AND receipt", set()),
    ("invoice OR receipt", {"invoice", "receipt"}),
    ("order OR xy OR koln", {"order", "short", "koeln"}),
    ("thanks OR is:read", {"order", "news"}),
    ("(invoice OR receipt) to:ann@example.com", {"invoice", "receipt"}),
    ("invoice OR receipt to:nobody@example.com", {"invoice"}),  # AND binds tighter
    ("xy OR order invoice", {"short"}),
    ("order OR invoice -has:attachment", {"order"}),
    ("-(invoice OR receipt)", ALL - {"invoice", "receipt"}),
    ("-(is:read OR inbox:team)", ALL - {"news", "team"}),
    ("(from:example.com OR from:*.shop.example) has:attachment", {"invoice", "receipt"}),
    ("((koln))", {"koeln"}),
    ("koln OR (noon (meeting OR party))", {"koeln", "team"}),
    ("is:unread OR -is:unread", ALL),
    ("(xy OR -xy) (ok OR -ok)", ALL),
    ("-(from:*.shop.example OR filename:pdf) has:attachment", set()),
]

Opened = tuple[Store, dict[str, int]]


@pytest.fixture(scope="module", params=each_backend())
def corpus(request: pytest.FixtureRequest) -> Iterator[Opened]:
    """Open a store of the backend, hold the corpus in it (indexed) and yield it with ids."""
    opener: Callable[[], Store] = request.param
    store = opener()
    yield store, fill(store)
    store.close()


def keys(ids: dict[str, int], found: list[int]) -> set[str]:
    names = {message_id: key for key, message_id in ids.items()}
    return {names[message_id] for message_id in found}


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_query_matches_expected_messages(corpus: Opened, query: str, expected: set[str]):
    store, ids = corpus
    page = store.list_messages(query=parse_query(query), limit=100)
    assert keys(ids, [m.id for m in page.messages]) == expected
    assert page.total == len(expected) == store.count_messages(parse_query(query))


def test_matches_are_listed_newest_first_and_counted_past_the_page(corpus: Opened) -> None:
    store, ids = corpus
    page = store.list_messages(query=parse_query("from:*.shop.example OR filename:pdf"), limit=1)
    assert page.total == 2 and [m.id for m in page.messages] == [ids["receipt"]]
    older = store.list_messages(query=parse_query("invoice OR receipt"), before=ids["receipt"])
    assert [m.id for m in older.messages] == [ids["invoice"]]


def test_count_after_an_id_counts_only_newer_matches(corpus: Opened) -> None:
    store, ids = corpus
    assert store.count_messages(parse_query("invoice OR receipt"), after=ids["team"]) == 1
    assert store.count_messages(parse_query("invoice OR receipt"), after=ids["receipt"]) == 0


def test_inbox_and_query_combine(corpus: Opened) -> None:
    store, _ = corpus
    assert store.count_messages(parse_query("meeting OR invoice"), inbox="team") == 1
    assert store.count_messages(parse_query("meeting OR invoice"), inbox="default") == 1


def test_empty_query_lists_every_message(corpus: Opened) -> None:
    store, ids = corpus
    page = store.list_messages(query=parse_query("  "), limit=100)
    assert keys(ids, [m.id for m in page.messages]) == ALL

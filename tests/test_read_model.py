"""One message, one model: the API, the UI page and the fixture agree, and it is parsed once.

Tricky messages go in over SMTP; their links, attachments and headers are then read through
the JSON API, the UI's message page and the fixture's captured message, and compared.
"""

from __future__ import annotations

import email.feedparser
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest

from mailtrap_lite.message import read_message
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.testing import SinkView
from tests.apiserver import Served, store_message, stored_app, until

HTML_ONLY = (
    "<p>Visit https://prose.example/page today.</p>"
    '<map name="m"><area href="https://area.example/x" alt="Region"></map>'
    '<a href="https://anchor.example/">Anchor</a> <a href="https://anchor.example/">Again</a>'
    '<a href="mailto:help@example.com">Mail us</a>'
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def links_message() -> bytes:
    message = EmailMessage()
    message["From"] = "App <app@example.com>"
    message["To"] = "ann@example.com"
    message["Subject"] = "Links"
    message.set_content(HTML_ONLY, subtype="html")
    return message.as_bytes()


def nested_message() -> bytes:
    """mixed(alternative(text, related(html, 2 inline images)), pdf, message/rfc822(+file))."""
    inner = EmailMessage()
    inner["From"] = "inner@example.com"
    inner["Subject"] = "Forwarded"
    inner.set_content("inner text")
    inner.add_attachment(b"inner file", maintype="text", subtype="csv", filename="inner.csv")
    outer = EmailMessage()
    outer["From"] = "=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.com>"
    outer["To"] = "=?utf-8?b?Wm/Dqw==?= <zoe@example.com>"
    outer["Subject"] = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= from Köln"
    outer.set_content("Plain text, see https://text.example/t")
    outer.add_alternative(
        '<p>Logo <img src="cid:logo@x"> and <img src="cid:badge@x"></p>'
        '<a href="https://html.example/h">Read</a>',
        subtype="html",
    )
    html_part = outer.get_payload()[1]
    for name, data in (("logo", PNG), ("badge", PNG + b"2")):
        html_part.add_related(data, "image", "png", cid=f"<{name}@x>", filename=f"{name}.png",
                              disposition="inline")  # fmt: skip
    outer.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                         filename="Résumé 2026.pdf")  # fmt: skip
    outer.add_attachment(inner)
    return outer.as_bytes()


def unix_from_message() -> bytes:
    return (
        b"From mailer-daemon Fri Apr 06 16:46:09 2001\r\n"
        b"From: daemon@example.com\r\nTo: ann@example.com\r\nSubject: Bounced\r\n\r\n"
        b"See https://bounce.example/why\r\n"
    )


MESSAGES = {"links": links_message, "nested": nested_message, "unix-from": unix_from_message}


class _PageTables(HTMLParser):
    """Collect the rows of the message page's Headers, Attachments and Links tables."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            self._table = next((c for c in ("headers-table", "attachments", "links")
                                if c in classes), None)  # fmt: skip
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._table and self._row:
            self.tables.setdefault(self._table, []).append(self._row)
        elif tag == "table":
            self._table = None


def page_tables(served: Served, message_id: str) -> dict[str, list[list[str]]]:
    parser = _PageTables()
    parser.feed(served.get(f"/messages/{message_id}").body.decode())
    return {name: rows[1:] for name, rows in parser.tables.items()}  # without the heading row


@pytest.fixture
def delivered(served: Served, request: pytest.FixtureRequest) -> Iterator[tuple[Any, ...]]:
    """Send one message; return the API's full message, the UI's tables and the fixture's."""
    view = SinkView(served.sink)
    served.send(MESSAGES[request.param](), to=["ann@example.com"])
    captured = view.wait_for()
    api = served.get(f"/api/v1/messages/{captured.id}").json()
    yield api, page_tables(served, str(captured.id)), captured


SURFACES = pytest.mark.parametrize("delivered", list(MESSAGES), indirect=True)


@SURFACES
def test_links_are_the_same_everywhere(delivered: tuple[Any, ...]) -> None:
    api, page, captured = delivered
    assert api["links"] == captured.links()
    assert [row[1] for row in page.get("links", [])] == [d["url"] for d in api["link_details"]]
    assert [d["url"] for d in api["link_details"] if d["kind"] == "web"] == api["links"]


@SURFACES
def test_attachments_are_the_same_everywhere(delivered: tuple[Any, ...]) -> None:
    api, page, captured = delivered
    from_api = [
        (a["filename"], a["content_type"], a["size"], a["inline"]) for a in api["attachments"]
    ]
    from_fixture = [
        (a.filename, a.content_type, len(a.data), a.inline) for a in captured.attachments
    ]
    assert from_api == from_fixture
    assert [row[1] for row in page.get("attachments", [])] == [
        a["content_type"] for a in api["attachments"]
    ]
    assert api["attachment_count"] == sum(1 for a in api["attachments"] if not a["inline"])


@SURFACES
def test_headers_are_the_same_everywhere(delivered: tuple[Any, ...]) -> None:
    api, page, captured = delivered
    assert [tuple(h) for h in api["headers"]] == captured.decoded_headers
    assert [tuple(row) for row in page["headers-table"]] == captured.decoded_headers


def test_the_link_example_lists_prose_area_anchor_once_and_mailto() -> None:
    message = read_message(links_message())
    assert message.web_links() == [
        "https://area.example/x", "https://anchor.example/", "https://prose.example/page",
    ]  # fmt: skip
    assert ("mailto:help@example.com", "mailto") in [(k.url, k.kind) for k in message.links]


def test_nested_parts_have_addresses_and_decoded_names() -> None:
    message = read_message(nested_message())
    assert [(a.address, a.filename, a.inline) for a in message.attachments] == [
        ("1.2.2", "logo.png", True),
        ("1.2.3", "badge.png", True),
        ("2", "Résumé 2026.pdf", False),
        ("3.1", None, False),  # the forwarded message's text, a part like the others
        ("3.2", "inner.csv", False),
    ]
    assert message.text == "Plain text, see https://text.example/t\n"
    assert message.header_values("Subject") == ["Grüße from Köln"]
    assert message.header_values("From") == ["Jörg Müller <joerg@example.com>"]


def test_a_unix_from_line_is_not_a_header() -> None:
    message = read_message(unix_from_message())
    assert message.unix_from == "From mailer-daemon Fri Apr 06 16:46:09 2001"
    assert [name for name, _ in message.headers] == ["From", "To", "Subject"]


def test_the_full_message_agrees_with_itself_before_indexing() -> None:
    store = SQLiteStore()  # nothing indexes this store
    try:
        message_id = store_message(store, nested_message())
        assert store.stats()["unindexed"] == 1
        full = stored_app(store).test_client().get(f"/api/v1/messages/{message_id}").json
        listed = stored_app(store).test_client().get("/api/v1/messages").json["messages"][0]
    finally:
        store.close()
    assert full["attachment_count"] == sum(1 for a in full["attachments"] if not a["inline"]) == 3
    assert full["snippet"] == "Plain text, see https://text.example/t"
    assert (listed["attachment_count"], listed["snippet"]) == (0, "")  # lists read no body


# -- one parse for a page, its frame, its images and the API -----------------------------------


class ParseCounter:
    """Counts every full parse of a message in this process (the email package's parser)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        original = email.feedparser.BytesFeedParser.close  # http.client's uses FeedParser

        def counting(parser: email.feedparser.BytesFeedParser) -> Any:
            with self._lock:
                self.count += 1
            return original(parser)

        monkeypatch.setattr(email.feedparser.BytesFeedParser, "close", counting)


def test_a_page_its_frame_and_images_then_the_api_parse_the_message_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = ParseCounter(monkeypatch)  # the indexer's parse counts: it fills the cache
    served.send(nested_message())
    [summary] = until(lambda: served.get("/api/v1/wait").json()["messages"])
    until(lambda: served.get("/api/v1/health").json()["unindexed"] == 0)
    mid = summary["id"]
    paths = [f"/messages/{mid}", f"/messages/{mid}/body.html",
             f"/messages/{mid}/cid/logo@x", f"/messages/{mid}/cid/badge@x"]  # fmt: skip
    replies: dict[str, int] = {}
    start = threading.Barrier(len(paths))

    def fetch(path: str) -> None:
        start.wait()
        replies[path] = served.get(path).status

    threads = [threading.Thread(target=fetch, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert replies == dict.fromkeys(paths, 200)
    assert served.get(f"/api/v1/messages/{mid}").status == 200
    assert counter.count == 1

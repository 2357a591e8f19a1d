"""A JavaScript app in Chromium, handed the Mailpit URL of an in-process Sink, lists the
captured mail with fetch(): the use case of `Sink(mailpit_http=...)`, CORS as documented
(`--cors ORIGIN` lets that origin's scripts call the API; without it the browser refuses)."""

from __future__ import annotations

import re
import smtplib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.uikit import text_message

LOCAL = Address("127.0.0.1", 0)
# The app under test: it reads the Mailpit URL from its own address, as apps read settings.
APP = b"""<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Outbox viewer</title>
<ul id="subjects"></ul><p id="error"></p>
<script>
const mailpit = new URLSearchParams(location.search).get("mailpit");
fetch(`${mailpit}/api/v1/messages`)
  .then((response) => response.json())
  .then((summary) => {
    for (const message of summary.messages) {
      const item = document.createElement("li");
      item.textContent = message.Subject;
      document.getElementById("subjects").append(item);
    }
    document.body.dataset.done = "listed";
  })
  .catch((error) => {
    document.getElementById("error").textContent = String(error);
    document.body.dataset.done = "failed";
  });
</script>
</html>"""


class AppServer:
    """Serves the app's page on 127.0.0.1, port 0: an origin other than the sink's."""

    def __init__(self) -> None:
        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(APP)))
                self.end_headers()
                self.wfile.write(APP)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app_server() -> Iterator[AppServer]:
    server = AppServer()
    yield server
    server.stop()


def send_two(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        for subject in ("Welcome, Ann", "Your receipt"):
            client.send_message(text_message(subject), "app@example.com", ["ann@example.com"])


def open_app(page, app_server: AppServer, sink: Sink) -> None:
    page.goto(f"{app_server.origin}/?{urlencode({'mailpit': sink.mailpit_url})}")
    expect(page.locator("body")).to_have_attribute("data-done", re.compile("listed|failed"))


def test_an_app_from_an_allowed_origin_lists_mail_through_the_mailpit_url(
    app_server: AppServer, page
) -> None:
    with Sink(Config(smtp=LOCAL, cors=app_server.origin), mailpit_http=LOCAL) as sink:
        send_two(sink)
        open_app(page, app_server, sink)
    expect(page.locator("#subjects li")).to_have_text(["Your receipt", "Welcome, Ann"])
    expect(page.locator("#error")).to_have_text("")


def test_an_app_from_an_origin_not_allowed_is_refused_by_the_browser(
    app_server: AppServer, page
) -> None:
    with Sink(Config(smtp=LOCAL, cors="http://elsewhere.test"), mailpit_http=LOCAL) as sink:
        send_two(sink)
        open_app(page, app_server, sink)
    expect(page.locator("#error")).to_have_text("TypeError: Failed to fetch")
    expect(page.locator("#subjects li")).to_have_count(0)

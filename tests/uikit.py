"""Browser-test kit: a sink with the web UI on 127.0.0.1:0, Chromium, and a canary server.

Debian's chromium is driven by Playwright from PyPI; Playwright's own browser download is
not used (the CI machine has no access to it).
"""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from mailtrap_lite.webserve import WebServer
from tests.apiserver import make_message

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class UIServer:
    """A running sink plus the web app on its Store; `url` is the UI's base URL."""

    def __init__(self, config: Config | None = None) -> None:
        self.sink = Sink(config)
        self.web: WebServer | None = None

    def start(self) -> UIServer:
        self.sink.start()
        assert self.sink.store is not None
        config = self.sink.config.replace(http=Address("127.0.0.1", 0))
        address = f"{self.sink.host}:{self.sink.port}"
        self.web = WebServer(self.sink.store, config, address, self.sink.faults)
        self.web.start()
        return self

    @property
    def url(self) -> str:
        assert self.web is not None
        return self.web.url

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop()
        self.sink.stop()

    def __enter__(self) -> UIServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def send(
        self,
        message: EmailMessage | bytes,
        login: tuple[str, str] | None = None,
        sender: str = "app@example.com",
        to: tuple[str, ...] = ("dev@example.com",),
    ) -> int:
        """Send one message over SMTP and return its stored id."""
        before = max((m.id for m in self.sink.messages()), default=0)
        with smtplib.SMTP(self.sink.host, self.sink.port, timeout=10) as client:
            if login:
                client.login(*login)
            if isinstance(message, bytes):
                client.sendmail(sender, list(to), message)
            else:
                client.send_message(message, sender, list(to))
        [stored] = self.sink.wait_for(count=1, after=before)
        return stored.id


def text_message(subject: str, text: str = "Hello.", **headers: str) -> EmailMessage:
    """Build a plain-text message with From/To and any extra headers."""
    headers.setdefault("From", "App <app@example.com>")
    headers.setdefault("To", "Dev <dev@example.com>")
    return make_message(subject, text, **headers)


class Canary:
    """An HTTP server on 127.0.0.1:0 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Recorder(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Canary:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

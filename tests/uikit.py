"""Browser-test kit: a sink with the web UI on 127.0.0.1:0, Chromium, and a canary server.

Debian's chromium is driven by Playwright from PyPI; Playwright's own browser download is
not used (the CI machine has no access to it).
"""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
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
        self.sink = Sink(config, http=Address("127.0.0.1", 0))

    def start(self) -> UIServer:
        self.sink.start()
        return self

    @property
    def url(self) -> str:
        return self.sink.web_url

    def stop(self) -> None:
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


def send_burst(
    sink: Sink,
    messages: list[EmailMessage],
    connections: int = 4,
    login: tuple[str, str] | None = None,
) -> None:
    """Send messages over several SMTP connections at once, each sending its share in turn."""

    def send_share(share: list[EmailMessage]) -> None:
        with smtplib.SMTP(sink.host, sink.port, timeout=30) as client:
            if login:
                client.login(*login)
            for message in share:
                client.send_message(message, "app@example.com", ["dev@example.com"])

    shares = [messages[n::connections] for n in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send_share, shares))


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


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2a2d8c20000000049454e44ae426082"
)


def rich_message() -> EmailMessage:
    """Build a message with text, HTML, an inline cid: image and an attachment."""
    message = text_message(
        "Reset your password",
        "Hi Ada,\nreset here: https://app.example.com/reset?token=abc123\n",
        To="Ada Lovelace <ada@example.com>",
        Cc="ops@example.com",
    )
    message.add_alternative(
        '<html><body><h1 id="greeting">Hello Ada</h1>'
        '<p><a href="https://app.example.com/reset?token=abc123">Reset password</a></p>'
        '<img id="logo" src="cid:logo@example.com" alt="logo"></body></html>',
        subtype="html",
    )
    html_part = message.get_payload()[1]
    html_part.add_related(PNG, "image", "png", cid="<logo@example.com>")
    message.add_attachment(b"id,total\n1,5\n", maintype="text", subtype="csv",
                           filename="invoice.csv")  # fmt: skip
    return message

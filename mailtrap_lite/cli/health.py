"""`mailtrap-lite health [--url URL]`: exit 0 when the server is ready, 1 when it is not.

For container and CI health checks without curl: it asks GET URL/readyz (ready once the
store is open and SMTP listens). The URL defaults to the --http address of this
environment (MAILTRAP_LITE_HTTP), else http://127.0.0.1:8025.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from mailtrap_lite.config import DEFAULT_HTTP_PORT, ConfigError, format_hostport, parse_address

from .options import Option, Parser, add_options, resolve, seconds

TIMEOUT = "5"
OPTIONS = [
    Option("--url", "base URL of the server's web listener", metavar="URL",
           shown_default="from MAILTRAP_LITE_HTTP, else http://127.0.0.1:8025"),
    Option("--timeout", "seconds to wait for the answer", seconds, TIMEOUT, "S"),
]  # fmt: skip


def default_url() -> str:
    """Return the URL of the web listener this environment configures."""
    text = os.environ.get("MAILTRAP_LITE_HTTP", "").strip()
    if not text or text.lower() == "off":
        return f"http://127.0.0.1:{DEFAULT_HTTP_PORT}"
    try:
        address = parse_address(text)
    except ConfigError:
        return f"http://127.0.0.1:{DEFAULT_HTTP_PORT}"
    host = {"localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(
        address.host, address.host
    )
    return f"http://{format_hostport(host, address.port)}"


def run(argv: Sequence[str]) -> int:
    """Ask the server whether it is ready; return 0 (ready) or 1."""
    parser = Parser(prog="mailtrap-lite health",
                    description="Exit 0 when the server answers GET /readyz with 200.")  # fmt: skip
    add_options(parser, OPTIONS)
    values = resolve(parser.parse_args(argv), OPTIONS)
    url = (values["url"] or default_url()).rstrip("/") + "/readyz"
    try:
        with urllib.request.urlopen(url, timeout=values["timeout"]) as reply:
            status = int(reply.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        print(f"mailtrap-lite health: {url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"mailtrap-lite health: {url} answered {status}", file=sys.stderr)
        return 1
    print(f"ready: {url}")
    return 0

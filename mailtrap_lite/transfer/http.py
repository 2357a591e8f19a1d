"""A small HTTP client for the servers an import or export talks to (ours, Mailpit, MailHog).

The standard library's urllib: requests are plain GETs and POSTs of files, one at a time.
Credentials in the URL (http://user:pass@host:port) become HTTP basic auth.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import IO, Any

from mailtrap_lite.transfer.items import TransferError

TIMEOUT = 60.0
CHUNK = 1 << 16


class HttpClient:
    """Requests to one server, relative to its base URL; failures become TransferError."""

    def __init__(self, url: str, what: str = "the server") -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransferError(f"{url!r} is not an http:// or https:// URL")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.what = what
        self._auth: str | None = None
        if parts.username is not None:
            user, password = parts.username, parts.password or ""
            pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
            self._auth = "Basic " + base64.b64encode(pair.encode()).decode()

    def url(self, path: str, **params: object) -> str:
        """Return the full URL of a path with query parameters (None values left out; a list
        gives the parameter once per item)."""
        kept = {k: v for k, v in params.items() if v is not None}
        query = urllib.parse.urlencode(kept, doseq=True)
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def get_json(self, path: str, **params: object) -> Any:
        """GET a JSON document."""
        with self._open("GET", self.url(path, **params)) as response:
            try:
                return json.load(response)
            except ValueError as error:
                raise TransferError(f"{self.what} answered {path} with bad JSON: {error}") from None

    def get_bytes(self, path: str, **params: object) -> bytes:
        """GET a body as bytes."""
        with self._open("GET", self.url(path, **params)) as response:
            body: bytes = response.read()
            return body

    def get_chunks(self, path: str, **params: object) -> Iterator[bytes]:
        """GET a body piece by piece (a streamed export)."""
        with self._open("GET", self.url(path, **params)) as response:
            while chunk := response.read(CHUNK):
                yield chunk

    def post(self, path: str, body: bytes | IO[bytes], content_type: str, **params: object) -> Any:
        """POST a body; return the JSON answer."""
        with self._open("POST", self.url(path, **params), body, content_type) as response:
            return json.load(response)

    def _open(
        self, method: str, url: str, body: bytes | IO[bytes] | None = None, content_type: str = ""
    ) -> Any:
        request = urllib.request.Request(url, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self._auth is not None:
            request.add_header("Authorization", self._auth)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 (http(s) only)
        except urllib.error.HTTPError as error:
            raise TransferError(
                f"{self.what} answered {error.code}: {_error_text(error)}"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TransferError(f"cannot reach {self.what} at {self.base}: {reason}") from None


def _error_text(error: urllib.error.HTTPError) -> str:
    text = error.read(4096).decode("utf-8", "replace").strip()
    try:
        found = json.loads(text)
    except ValueError:
        return text.splitlines()[0] if text else str(error.reason)
    return str(found.get("error", text)) if isinstance(found, dict) else text

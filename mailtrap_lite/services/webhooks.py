"""Webhooks: each new message's summary POSTed as JSON to every --webhook URL.

Deliveries wait in a bounded queue and go out from a thread of their own, so SMTP never
waits for a receiver. A failed attempt (an error status, a timeout, a refused connection,
a redirect) is retried after 1, 2, 4, ... seconds, up to `attempts` tries; when the queue is
full the oldest waiting delivery is dropped and counted. Redirects are never followed: the
server posts only to the URLs the user configured. With a secret, each request carries
`X-Mailtrap-Lite-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import logging
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass

from mailtrap_lite.config import ConfigError
from mailtrap_lite.services.clock import Clock
from mailtrap_lite.version import __version__

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Mailtrap-Lite-Signature"
BASE_DELAY = 1.0  # seconds before the first retry; doubled for each one after
MAX_DELAY = 300.0
HISTORY = 500  # finished deliveries kept for GET /api/v1/webhooks/deliveries


def check_webhook_url(url: str) -> str:
    """Return the URL if it is http(s) with a host, else raise ConfigError."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--webhook {url!r}: expected an http:// or https:// URL with a host")
    return url.strip()


def signature(secret: str, body: bytes) -> str:
    """Return the signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookDelivery:
    """One message's summary on its way to one URL."""

    id: int
    url: str
    message_id: int
    body: bytes
    created_at: float
    next_at: float
    # pending (waiting for its turn), sending, delivered, failed (gave up), dropped (queue full)
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    response_status: int | None = None
    updated_at: float = 0.0


class Webhooks:
    """The queue of deliveries and the thread that sends them."""

    def __init__(
        self,
        urls: tuple[str, ...],
        secret: str | None,
        clock: Clock,
        *,
        attempts: int = 5,
        queue: int = 1000,
        timeout: float = 5.0,
    ) -> None:
        self.urls = urls
        self.secret = secret
        self.clock = clock
        self.attempts = attempts
        self.timeout = timeout
        self.delivered = self.failed = self.dropped = self.failed_attempts = 0
        self._queue: deque[WebhookDelivery] = deque(maxlen=queue)
        self._in_flight: WebhookDelivery | None = None
        self._history: deque[WebhookDelivery] = deque(maxlen=HISTORY)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailtrap-lite-webhooks",
                                        daemon=True)  # fmt: skip

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the request in flight (at most `timeout` seconds)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(self.timeout + 5)

    def enqueue(self, message_id: int, body: bytes) -> None:
        """Queue the body for every URL; never blocks (a full queue drops its oldest)."""
        now = self.clock.now()
        with self._lock:
            for url in self.urls:
                self._push(WebhookDelivery(next(self._ids), url, message_id, body, now, now,
                                           updated_at=now))  # fmt: skip
        self._wake.set()

    def _push(self, delivery: WebhookDelivery) -> None:
        """Queue a delivery (under the lock); a full queue drops its oldest, counted."""
        if len(self._queue) == self._queue.maxlen:
            self._drop(self._queue.popleft(), delivery.updated_at)
        self._queue.append(delivery)

    def _drop(self, delivery: WebhookDelivery, now: float) -> None:
        delivery.status, delivery.updated_at = "dropped", now
        delivery.last_error = "dropped: the queue was full"
        self.dropped += 1
        self._history.append(delivery)

    def deliveries(self) -> list[WebhookDelivery]:
        """Return waiting deliveries and the latest finished ones, newest first."""
        with self._lock:
            found = list(self._queue) + list(self._history)
            if self._in_flight is not None:
                found.append(self._in_flight)
        return sorted(found, key=lambda d: d.id, reverse=True)

    # -- the sending thread ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before looking: an enqueue() after this is never missed
            due = self._next_due()
            if isinstance(due, WebhookDelivery):
                self._attempt(due)
                continue
            if due is None:
                self._wake.wait(1.0)  # nothing queued: wait for enqueue() or stop()
            else:
                self.clock.wait(self._wake, due)  # seconds until the next retry is due

    def _next_due(self) -> WebhookDelivery | float | None:
        """Return a delivery due now, else seconds until the next one, else None."""
        now = self.clock.now()
        with self._lock:
            if not self._queue:
                return None
            first = min(self._queue, key=lambda d: d.next_at)
            if first.next_at > now:
                return first.next_at - now
            self._queue.remove(first)
            self._in_flight, first.status = first, "sending"
            return first

    def _attempt(self, delivery: WebhookDelivery) -> None:
        delivery.attempts += 1
        error = self._post(delivery)
        now = self.clock.now()
        delivery.updated_at = now
        with self._lock:
            self._in_flight = None
            if error is None:
                delivery.status, delivery.last_error = "delivered", None
                self.delivered += 1
                self._history.append(delivery)
                return
            delivery.last_error = error
            self.failed_attempts += 1
            if delivery.attempts >= self.attempts:
                delivery.status = "failed"
                self.failed += 1
                self._history.append(delivery)
                log.warning("webhook %s: gave up after %d attempts: %s", delivery.url,
                            delivery.attempts, error)  # fmt: skip
                return
            delay = min(BASE_DELAY * 2 ** (delivery.attempts - 1), MAX_DELAY)
            delivery.next_at, delivery.status = now + delay, "pending"
            self._push(delivery)

    def _post(self, delivery: WebhookDelivery) -> str | None:
        """POST once; return None on a 2xx answer, else what went wrong."""
        parts = urllib.parse.urlsplit(delivery.url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = kind(parts.hostname or "", parts.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json",
                   "User-Agent": f"mailtrap-lite/{__version__}"}  # fmt: skip
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, delivery.body)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.request("POST", path, body=delivery.body, headers=headers)
            response = conn.getresponse()
            response.read(65536)
        except (OSError, http.client.HTTPException) as error:
            return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        finally:
            conn.close()
        delivery.response_status = response.status
        if 300 <= response.status < 400:
            return f"HTTP {response.status}: redirects are not followed"
        if not 200 <= response.status < 300:
            return f"HTTP {response.status} {response.reason}"
        return None

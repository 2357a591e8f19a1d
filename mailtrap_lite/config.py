"""Settings of one mailtrap-lite instance: one frozen dataclass, built by the CLI or by tests."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SMTP_PORT = 1025
DEFAULT_HTTP_PORT = 8025


class ConfigError(ValueError):
    """A setting that cannot be used; the message is shown to the user as is."""


class BindError(OSError):
    """A listening address cannot be used (in use, not local, not permitted)."""


@dataclass(frozen=True)
class Address:
    """A listening address; host "localhost" means both 127.0.0.1 and ::1."""

    host: str
    port: int

    def hosts(self) -> list[str]:
        """Return the concrete hosts to bind."""
        if self.host == "localhost":
            return ["127.0.0.1", "::1"]
        return [self.host]

    def __str__(self) -> str:
        return format_hostport(self.host, self.port)


def is_loopback(host: str) -> bool:
    """Tell whether a listening host is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def format_hostport(host: str, port: int) -> str:
    """Format HOST:PORT, bracketing IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_address(text: str, default_host: str = "localhost") -> Address:
    """Parse "HOST:PORT", "[::1]:PORT", ":PORT" or "PORT"."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ConfigError(f"bad address {text!r}: expected [HOST]:PORT")
        port_text = rest[1:]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    else:
        host, port_text = "", text
    return Address(host or default_host, _parse_port(port_text, text))


def _parse_port(port_text: str, whole: str) -> int:
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"bad address {whole!r}: the port must be a number from 0 to 65535")
    return int(port_text)


def parse_credentials(text: str) -> tuple[str, str]:
    """Parse "USER:PASS" (the password may contain colons)."""
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise ConfigError(f"bad credentials {text!r}: expected USER:PASS")
    return user, password


@dataclass(frozen=True)
class Config:
    """Everything one instance needs to know; passed to each part that needs it."""

    smtp: Address = Address("localhost", DEFAULT_SMTP_PORT)
    http: Address | None = Address("localhost", DEFAULT_HTTP_PORT)
    # listeners serving Mailpit's and MailHog's API layouts from / (off by default)
    mailpit_http: Address | None = None
    mailhog_http: Address | None = None
    db: Path | None = None  # None means a temporary database removed at exit
    check_db: bool = False  # a full integrity check at start instead of the quick one
    max_messages: int = 10_000  # 0 means no limit
    max_sessions: int = 10_000  # 0 means no limit
    max_message_size: int = 33_554_432
    max_recipients: int = 1000
    max_connections: int = 200
    # transcript kept per session (0: no cap); later lines are counted, not kept
    max_transcript_lines: int = 50_000
    max_transcript_bytes: int = 4_194_304
    idle_timeout: float = 300.0
    credentials: dict[str, str] = field(default_factory=dict)
    require_auth: bool = False
    hostname: str = "mailtrap-lite"
    # RFC 5321 §4.5.3.1.4: a command line is at most 512 octets (SIZE and SMTPUTF8 add to MAIL).
    max_command_length: int = 512
    smtps: Address | None = None  # implicit-TLS listener
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_self_signed: bool = False
    require_tls: bool = False  # 530 to MAIL and AUTH before STARTTLS (RFC 3207 §4)
    auth_require_tls: bool = False  # AUTH only over TLS (RFC 4954 §4); off for development
    # wrong SMTP credentials: the next command is read this much later, doubling each time;
    # the max_auth_failures-th wrong credentials get 421 and the connection closes
    auth_failure_delay: float = 0.25
    max_auth_failures: int = 5
    faults: tuple[str, ...] = ()  # rules in the --fault grammar (mailtrap_lite.smtp.faults)
    index_max_text: int = 1_048_576  # body characters indexed for search per message
    query_timeout: float = 5.0  # seconds a search may run before it is stopped (503)
    # web: basic auth (USER, PASS) for UI and API; CORS origin(s) for the API (none by default)
    ui_auth: tuple[str, str] | None = None
    # wrong basic-auth credentials: past http_auth_failures from one address within
    # http_auth_window seconds, that address gets 429 until the window has passed
    http_auth_failures: int = 10
    http_auth_window: float = 60.0
    cors: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # Host names answered besides localhost and IPs; "*": any
    http_max_body: int = 1_048_576  # request body bytes; larger bodies get 413
    http_max_upload: int = 67_108_864  # bytes of a file uploaded to POST /api/v1/import
    http_max_waits: int = 56  # open waits + event streams together (of 64 threads); then 503
    http_max_searches: int = 8  # searches (and deletions by query) at once; then 503
    http_max_connections: int = 1000  # open web connections; past it new ones wait to be accepted
    http_idle_timeout: float = (
        20.0  # a web connection idle (or a request unfinished) this long is closed
    )
    events_seconds: float = 300.0  # an event stream ends after this; clients reconnect
    events_heartbeat: float = 15.0  # a comment line on idle streams keeps proxies open
    # tags: user+tag@ recipients tag their message; --tag NAME=QUERY rules, as (name, query)
    plus_tags: bool = True
    tag_rules: tuple[tuple[str, str], ...] = ()
    # release to a real SMTP server: the --relay-config file (None: release is off) and the
    # query of messages released automatically (--relay-matching)
    relay_config: Path | None = None
    relay_matching: str | None = None
    webhooks: tuple[str, ...] = ()  # URLs that get each new message's summary (POST, JSON)
    webhook_secret: str | None = None  # HMAC-SHA256 key of X-Mailtrap-Lite-Signature
    webhook_attempts: int = 5  # tries per delivery (1 s, 2 s, 4 s, 8 s apart)
    webhook_queue: int = 1000  # deliveries waiting; past it the oldest is dropped (counted)
    webhook_timeout: float = 5.0  # seconds a receiver has to answer one request
    metrics: bool | None = None  # GET /metrics; None: on when the web listener is loopback
    max_age: float | None = None  # seconds; older messages are pruned in the background
    # deliverability checks: DKIM key records (name "sel._domainkey.domain", TXT value), read
    # from --dkim-key files by the command line; spamd's address (None: no spam score)
    dkim_keys: tuple[tuple[str, str], ...] = ()
    spamd: Address | None = None

    @property
    def metrics_on(self) -> bool:
        """Tell whether /metrics is served: as set, else only on a loopback web listener."""
        if self.metrics is not None:
            return self.metrics
        return self.http is not None and is_loopback(self.http.host)

    @property
    def has_certificate(self) -> bool:
        """Tell whether a certificate is configured (STARTTLS is offered only then)."""
        return self.tls_self_signed or self.tls_cert is not None

    def replace(self, **changes: object) -> Config:
        """Return a copy with some settings changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

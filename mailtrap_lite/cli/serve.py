"""`mailtrap-lite [serve]`: the options of a server, then an App serving until a signal."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mailtrap_lite.app import App
from mailtrap_lite.checks import read_key_option
from mailtrap_lite.config import (
    Address,
    Config,
    ConfigError,
    parse_address,
    parse_credentials,
)
from mailtrap_lite.services.retention import parse_duration
from mailtrap_lite.services.webhooks import check_webhook_url
from mailtrap_lite.smtp.faults import FaultError, parse_rule
from mailtrap_lite.store.query import QueryError, parse_query
from mailtrap_lite.store.tagging import TagError, check_tag
from mailtrap_lite.version import __version__

from .options import (
    EXIT_FAILURE,
    Option,
    Parser,
    add_options,
    choice,
    resolve,
    seconds,
    whole_number,
)

DESCRIPTION = (
    "Catch-all SMTP sink for development and tests: captures every message and SMTP session,"
    " delivers nothing, and shows them in a web UI and a JSON API. Every option also reads"
    " an environment variable (MAILTRAP_LITE_<OPTION>); a flag wins over it."
)


def default_db() -> Path:
    """Return mail.db in the user data directory (XDG_DATA_HOME or ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mailtrap-lite" / "mail.db"


def _address(text: str) -> Address:
    try:
        return parse_address(text)
    except ConfigError as error:
        raise ValueError(str(error)) from None


def _http(text: str) -> Address | None:
    return None if text.strip().lower() == "off" else _address(text)


def _credentials(text: str) -> tuple[str, str]:
    try:
        return parse_credentials(text)
    except ConfigError as error:
        raise ValueError(str(error)) from None


def _fault(text: str) -> str:
    try:
        parse_rule(text)
    except FaultError as error:
        raise ValueError(str(error)) from None
    return text.strip()


def _command_length(text: str) -> int:
    value = whole_number(text)
    if value < 512:  # RFC 5321 §4.5.3.1.4: servers must accept 512-octet command lines
        raise ValueError(f"must be at least 512 (RFC 5321 §4.5.3.1.4), got {value}")
    return value


def _host_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name != "*" and not re.fullmatch(r"[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]", name):
            raise ValueError(f"expected host names such as mail.test, got {name!r}")
    return names


def _recipients(text: str) -> int:
    return max(1, whole_number(text))


def _tag_rule(text: str) -> tuple[str, str]:
    name, sep, query = text.partition("=")
    if not sep or not query.strip():
        raise ValueError(f"expected NAME=QUERY, got {text!r}")
    try:
        name = check_tag(name)
        parse_query(query)
    except (TagError, QueryError) as error:
        raise ValueError(f"{text!r}: {error}") from None
    return name, query.strip()


def _query(text: str) -> str:
    try:
        parse_query(text)
    except QueryError as error:
        raise ValueError(str(error)) from None
    return text.strip()


def _webhook(text: str) -> str:
    try:
        return check_webhook_url(text)
    except ConfigError as error:
        raise ValueError(str(error).removeprefix(f"--webhook {text!r}: ")) from None


def _on_off(text: str) -> bool:
    return choice("on", "off")(text) == "on"


DKIM_KEY = Option(
    "--dkim-key",
    "a DKIM public key to verify signatures with, repeatable (the variable:"
    " comma-separated): SELECTOR._domainkey.DOMAIN=FILE, FILE a PEM key or the TXT record's"
    " value, or a zone-style file of TXT records; no DNS is ever asked",
    read_key_option,
    metavar="SELECTOR._domainkey.DOMAIN=FILE",
    repeat=True,
)
SPAMD = Option(
    "--spamd",
    "score messages with SpamAssassin's spamd listening at HOST:PORT",
    _address,
    metavar="HOST:PORT",
    shown_default="off",
)


OPTIONS = [
    Option("--smtp", "SMTP listener; localhost binds 127.0.0.1 and ::1, port 0 a free port",
           _address, "localhost:1025", "HOST:PORT"),
    Option("--http", "web UI and JSON API listener, or off", _http, "localhost:8025",
           "HOST:PORT|off"),
    Option("--mailpit-http", "a listener serving Mailpit's API from / (for Mailpit's clients),"
           " or off", _http, "off", "HOST:PORT|off"),
    Option("--mailhog-http", "a listener serving MailHog's API from / (for MailHog's"
           " clients), or off", _http, "off", "HOST:PORT|off"),
    Option("--db", "SQLite file; :memory: keeps nothing (a temporary file removed at exit)",
           metavar="PATH", shown_default="mail.db in the user data directory"),
    Option("--check-db", "check the whole database at start (PRAGMA integrity_check, indexes"
           " included) instead of the quick check; a damaged file stops the start", switch=True),
    Option("--max-messages", "keep the newest N messages; 0: no limit", whole_number, "10000",
           "N"),
    Option("--max-sessions", "keep the newest N sessions that delivered no kept message;"
           " 0: no limit", whole_number, "10000", "N"),
    Option("--max-message-size", "largest message in bytes (EHLO SIZE); larger ones get 552",
           whole_number, "33554432", "N"),
    Option("--max-recipients", "recipients per message; past it 452", _recipients, "1000", "N"),
    Option("--max-connections", "connections at once; past it 421 and close; 0: no limit",
           whole_number, "200", "N"),
    Option("--max-transcript-lines", "transcript lines kept per session; later ones are"
           " counted, not kept; 0: no limit", whole_number, "50000", "N"),
    Option("--max-transcript-bytes", "transcript bytes kept per session; later lines are"
           " counted, not kept; 0: no limit", whole_number, "4194304", "N"),
    Option("--max-command-length", "octets per command line, at least 512; longer lines get"
           " 500", _command_length, "512", "N"),
    Option("--idle-timeout", "seconds without a command before 421 and close", seconds, "300",
           "S"),
    Option("--smtps", "implicit-TLS SMTP listener (needs a certificate)", _address,
           metavar="HOST:PORT", shown_default="off"),
    Option("--tls-cert", "PEM certificate (chain) for STARTTLS and --smtps", Path,
           metavar="FILE"),
    Option("--tls-key", "PEM private key of --tls-cert", Path, metavar="FILE"),
    Option("--tls-self-signed", "generate once, and use, a self-signed certificate for"
           " localhost, 127.0.0.1 and ::1 (its path is printed)", switch=True),
    Option("--require-tls", "answer 530 to MAIL, AUTH and most commands before STARTTLS",
           switch=True),
    Option("--auth-require-tls", "refuse AUTH over plain text (538)", switch=True),
    Option("--auth", "accepted SMTP credentials, repeatable (the variable: comma-separated);"
           " without any, every AUTH succeeds", _credentials, metavar="USER:PASS", repeat=True),
    Option("--auth-file", "a file of USER:PASS lines (# starts a comment)", Path,
           metavar="FILE"),
    Option("--require-auth", "answer 530 to MAIL before a successful AUTH", switch=True),
    Option("--fault", "inject an SMTP failure, repeatable (the variable: one rule per line);"
           " grammar in the README", _fault, metavar="RULE", repeat=True, separator="\n"),
    Option("--ui-auth", "HTTP basic auth for the web UI and the JSON API", _credentials,
           metavar="USER:PASS"),
    Option("--cors", "let scripts from ORIGIN (comma-separated list, or *) call the JSON API",
           metavar="ORIGIN"),
    Option("--tag", "tag every new message that matches QUERY with NAME, repeatable (the"
           " variable: one rule per line)", _tag_rule, metavar="NAME=QUERY", repeat=True,
           separator="\n"),
    Option("--no-plus-tags", "do not tag messages to user+tag@domain with tag", switch=True),
    Option("--relay-config", "TOML file naming the SMTP server that releases go to; without"
           " it nothing is ever relayed", Path, metavar="FILE"),
    Option("--relay-matching", "release every new message that matches QUERY to its"
           " recipients (needs allowed_recipients in --relay-config)", _query,
           metavar="QUERY"),
    Option("--webhook", "POST each new message's summary as JSON to URL, repeatable",
           _webhook, metavar="URL", repeat=True),
    Option("--webhook-secret", "sign webhook bodies: X-Mailtrap-Lite-Signature:"
           " sha256=HMAC-SHA256(secret, body)", metavar="S"),
    Option("--metrics", "serve Prometheus metrics at /metrics", _on_off, metavar="on|off",
           shown_default="on for a loopback --http, off otherwise"),
    Option("--max-age", "prune messages older than this (90m, 12h, 3d) in the background",
           parse_duration, metavar="DURATION", shown_default="off"),
    DKIM_KEY,
    SPAMD,
    Option("--allowed-hosts", "Host names the web listeners answer besides localhost, their"
           " own names and IP addresses (comma-separated; * allows any); other names get 403,"
           " which defeats DNS rebinding", _host_names, metavar="H1,H2", shown_default="none"),
    Option("--query-timeout", "seconds a search may run before it is stopped (503)", seconds,
           "5", "S"),
    Option("--max-searches", "searches (and deletions by query) served at once; past it 503;"
           " 0: no limit", whole_number, "8", "N"),
    Option("--http-idle-timeout", "seconds before an idle or half-sent web connection is"
           " closed", seconds, "20", "S"),
    Option("--loop", "event loop: auto uses uvloop when installed (faster ingest)",
           choice("auto", "asyncio", "uvloop"), "auto", "auto|asyncio|uvloop"),
    Option("--log-level", "log level on stderr", choice("debug", "info", "warning", "error"),
           "warning", "LEVEL"),
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Describe `mailtrap-lite [serve] [options]`."""
    parser = Parser(prog="mailtrap-lite", description=DESCRIPTION)
    parser.add_argument("command", nargs="?", choices=["serve"], default="serve",
                        help="serve (the default): run the SMTP sink and its web UI")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"mailtrap-lite {__version__}")
    add_options(parser, OPTIONS)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """Turn parsed options (and their variables) into a Config; UsageError names the bad one."""
    return config_from_values(resolve(args, OPTIONS))


def config_from_values(values: dict[str, Any]) -> Config:
    """Build the Config of resolved option values."""
    credentials = dict(values["auth"])
    if values["auth_file"] is not None:
        credentials.update(_read_auth_file(values["auth_file"]))
    db_text = values["db"]
    db = default_db() if db_text is None else Path(db_text)
    return Config(
        smtp=values["smtp"],
        http=values["http"],
        mailpit_http=values["mailpit_http"],
        mailhog_http=values["mailhog_http"],
        db=None if str(db) == ":memory:" else db,
        check_db=values["check_db"],
        max_messages=values["max_messages"],
        max_sessions=values["max_sessions"],
        max_message_size=values["max_message_size"],
        max_recipients=values["max_recipients"],
        max_connections=values["max_connections"],
        max_transcript_lines=values["max_transcript_lines"],
        max_transcript_bytes=values["max_transcript_bytes"],
        idle_timeout=values["idle_timeout"],
        credentials=credentials,
        require_auth=values["require_auth"],
        max_command_length=values["max_command_length"],
        smtps=values["smtps"],
        tls_cert=values["tls_cert"],
        tls_key=values["tls_key"],
        tls_self_signed=values["tls_self_signed"],
        require_tls=values["require_tls"],
        auth_require_tls=values["auth_require_tls"],
        faults=tuple(values["fault"]),
        ui_auth=values["ui_auth"],
        cors=values["cors"] or None,
        plus_tags=not values["no_plus_tags"],
        tag_rules=tuple(values["tag"]),
        relay_config=values["relay_config"],
        relay_matching=values["relay_matching"],
        webhooks=tuple(values["webhook"]),
        webhook_secret=values["webhook_secret"] or None,
        metrics=values["metrics"],
        max_age=values["max_age"],
        dkim_keys=dkim_records(values["dkim_key"]),
        spamd=values["spamd"],
        allowed_hosts=values["allowed_hosts"] or (),
        query_timeout=values["query_timeout"],
        http_max_searches=values["max_searches"],
        http_idle_timeout=values["http_idle_timeout"],
    )


def dkim_records(values: list[list[tuple[str, str]]]) -> tuple[tuple[str, str], ...]:
    """Return the key records of every --dkim-key value, in order."""
    return tuple(record for records in values for record in records)


def _read_auth_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read --auth-file {path}: {error.strerror}") from None
    entries = (line.strip() for line in lines)
    return dict(parse_credentials(e) for e in entries if e and not e.startswith("#"))


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop factory when chosen or (auto) installed; None means asyncio's."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("--loop uvloop: uvloop is not installed") from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(argv: Sequence[str]) -> int:
    """Serve with these arguments until SIGINT or SIGTERM; return the exit status."""
    values = resolve(build_parser().parse_args(argv), OPTIONS)
    logging.basicConfig(level=values["log_level"].upper(),
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    config = config_from_values(values)
    with asyncio.Runner(loop_factory=loop_factory(values["loop"])) as runner:
        return runner.run(serve(config))


async def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM (0), or until a part fails for good (1, with the reason).

    Every acknowledged message is committed by then.
    """
    app = App(config, index_worker=True)
    try:
        await app.start()
        stop = _stop_on_signals()  # before announcing: a signal right after must stop cleanly
        loop = asyncio.get_running_loop()
        app.on_failure(lambda _: _call_soon(loop, stop.set))
        _announce(app)
        if app.failure is None:
            await stop.wait()
    finally:
        await app.stop()
    if app.failure is not None:
        print(f"mailtrap-lite: {app.failure}; stopped", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _announce(app: App) -> None:
    smtp, store = app.smtp, app.store
    print(f"smtp: {smtp.address}")
    if smtp.smtps_address is not None:
        print(f"smtps: {smtp.smtps_address}")
    if smtp.tls is not None:
        print(f"tls-cert: {smtp.tls.cert}")
    print(f"http: {app.web_url or 'off'}")
    for name, url in app.compat_urls.items():
        print(f"{name}-http: {url}")
    print(f"db: {':memory:' if store.temporary else store.path}", flush=True)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    return stop


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    loop.call_soon_threadsafe(callback)

"""The command line: options and their environment variables, then an App serving until a signal."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mailtrap_lite.app import App
from mailtrap_lite.config import (
    BindError,
    Config,
    ConfigError,
    parse_address,
    parse_credentials,
)
from mailtrap_lite.smtp.faults import FaultError, parse_rule
from mailtrap_lite.store import StorageError
from mailtrap_lite.version import __version__

ENV_PREFIX = "MAILTRAP_LITE_"
EXIT_USAGE = 2


def default_db() -> Path:
    """Return mail.db in the user data directory (XDG_DATA_HOME or ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "mailtrap-lite" / "mail.db"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _env_flag(name: str) -> bool:
    return (_env(name) or "").strip().lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    """Describe the options; each also reads MAILTRAP_LITE_<OPTION> (flags win)."""
    p = argparse.ArgumentParser(
        prog="mailtrap-lite",
        description="Catch-all SMTP sink: captures every message and SMTP session, "
        "delivers nothing. Every option also reads MAILTRAP_LITE_<OPTION>.",
    )
    p.add_argument("command", nargs="?", choices=["serve"], default="serve")
    p.add_argument("--version", action="version", version=f"mailtrap-lite {__version__}")
    p.add_argument("--smtp", default=_env("smtp", "localhost:1025"), metavar="HOST:PORT")
    p.add_argument("--http", default=_env("http", "localhost:8025"), metavar="HOST:PORT|off")
    p.add_argument("--db", default=_env("db"), metavar="PATH")
    for name, default in (("max-messages", 10_000), ("max-sessions", 10_000),
                          ("max-message-size", 33_554_432), ("max-recipients", 1000),
                          ("max-connections", 200), ("max-command-length", 512)):  # fmt: skip
        p.add_argument(f"--{name}", type=_count, default=_env(name, str(default)), metavar="N")
    p.add_argument("--idle-timeout", type=_seconds, default=_env("idle-timeout", "300"),
                   metavar="S")  # fmt: skip
    p.add_argument("--auth", action="append", metavar="USER:PASS",
                   default=[a for a in (_env("auth") or "").split(",") if a])  # fmt: skip
    p.add_argument("--auth-file", default=_env("auth-file"), metavar="F")
    p.add_argument("--require-auth", action="store_true", default=_env_flag("require-auth"))
    p.add_argument("--loop", default=_env("loop", "auto"), choices=["auto", "asyncio", "uvloop"],
                   help="event loop: uvloop (when installed) is faster")  # fmt: skip
    p.add_argument("--ui-auth", default=_env("ui-auth"), metavar="USER:PASS")
    p.add_argument("--cors", default=_env("cors"), metavar="ORIGIN")
    p.add_argument("--log-level", default=_env("log-level", "warning"),
                   choices=["debug", "info", "warning", "error"])  # fmt: skip
    _add_tls_options(p)
    p.add_argument("--fault", action="append", metavar="RULE",
                   help="inject an SMTP failure (repeatable; grammar in the README)")  # fmt: skip
    return p


def _add_tls_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smtps", default=_env("smtps"), metavar="HOST:PORT",
                   help="implicit-TLS SMTP listener (needs a certificate)")  # fmt: skip
    p.add_argument("--tls-cert", default=_env("tls-cert"), metavar="F")
    p.add_argument("--tls-key", default=_env("tls-key"), metavar="F")
    p.add_argument("--tls-self-signed", action="store_true",
                   default=_env_flag("tls-self-signed"))  # fmt: skip
    p.add_argument("--require-tls", action="store_true", default=_env_flag("require-tls"),
                   help="530 to MAIL and AUTH before STARTTLS")  # fmt: skip
    p.add_argument("--auth-require-tls", action="store_true",
                   default=_env_flag("auth-require-tls"),
                   help="refuse AUTH over plain text (allowed by default)")  # fmt: skip


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return value


def config_from_args(args: argparse.Namespace) -> Config:
    """Turn parsed options into a Config, or raise ConfigError with a clear message."""
    credentials = dict(parse_credentials(c) for c in args.auth)
    if args.auth_file:
        credentials.update(_read_auth_file(Path(args.auth_file)))
    db = default_db() if args.db is None else Path(args.db)
    return Config(
        smtp=parse_address(args.smtp),
        http=None if args.http.strip().lower() == "off" else parse_address(args.http),
        db=None if str(db) == ":memory:" else db,
        max_messages=args.max_messages,
        max_sessions=args.max_sessions,
        max_message_size=args.max_message_size,
        max_recipients=max(1, args.max_recipients),
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        credentials=credentials,
        require_auth=args.require_auth,
        max_command_length=_command_length(args.max_command_length),
        smtps=parse_address(args.smtps) if args.smtps else None,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        tls_self_signed=args.tls_self_signed,
        require_tls=args.require_tls,
        auth_require_tls=args.auth_require_tls,
        faults=_fault_rules(args.fault),
        ui_auth=parse_credentials(args.ui_auth) if args.ui_auth else None,
        cors=args.cors or None,
    )


def _command_length(value: int) -> int:
    if value < 512:  # RFC 5321 §4.5.3.1.4: servers must accept 512-octet command lines
        raise ConfigError("--max-command-length must be at least 512")
    return value


def _fault_rules(flags: list[str] | None) -> tuple[str, ...]:
    """Check --fault rules, or MAILTRAP_LITE_FAULT (one rule per line) when none is given."""
    texts = flags if flags is not None else (_env("fault") or "").splitlines()
    rules = tuple(text.strip() for text in texts if text.strip())
    try:
        for rule in rules:
            parse_rule(rule)
    except FaultError as error:
        raise ConfigError(str(error)) from None
    return rules


def _read_auth_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read --auth-file {path}: {error.strerror}") from None
    entries = (line.strip() for line in lines)
    return dict(parse_credentials(e) for e in entries if e and not e.startswith("#"))


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
        with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
            return runner.run(serve(config))
    except (ConfigError, StorageError, BindError) as error:
        print(f"mailtrap-lite: {error}", file=sys.stderr)
        return EXIT_USAGE


async def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM; every acknowledged message is committed by then."""
    app = App(config, index_worker=True)
    try:
        await app.start()
        stop = _stop_on_signals()  # before announcing: a signal right after must stop cleanly
        _announce(app)
        await stop.wait()
    finally:
        await app.stop()
    return 0


def _announce(app: App) -> None:
    smtp, store = app.smtp, app.store
    print(f"smtp: {smtp.address}")
    if smtp.smtps_address is not None:
        print(f"smtps: {smtp.smtps_address}")
    if smtp.tls is not None:
        print(f"tls-cert: {smtp.tls.cert}")
    print(f"http: {app.web_url or 'off'}")
    print(f"db: {':memory:' if store.temporary else store.path}", flush=True)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    return stop

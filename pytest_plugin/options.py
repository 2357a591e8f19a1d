"""Command-line, environment and ini options; a flag wins over the environment over the ini."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest

T = TypeVar("T")

MARKER = (
    "smtp_sink(**settings): give this test its own sink with these Config settings"
    " (require_auth=True, credentials={...}, max_message_size=...); timeout= sets the"
    " default wait of smtp_sink.wait_for"
)
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """The resolved options of one run."""

    ui: bool = False
    mailpit: bool = False
    mailhog: bool = False
    keep: bool = False
    url: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class Option:
    """One option known three ways: --flag, environment variable and ini key."""

    flag: str
    help: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return self.dest.upper()


UI = Option("--smtp-sink-ui", "serve the web UI of each worker's sink; its URL is reported")
MAILPIT = Option(
    "--smtp-sink-mailpit",
    "serve a Mailpit-compatible API for each worker's sink (smtp_sink_server.mailpit_url)",
)
MAILHOG = Option(
    "--smtp-sink-mailhog",
    "serve a MailHog-compatible API for each worker's sink (smtp_sink_server.mailhog_url)",
)
KEEP = Option("--smtp-sink-keep", "keep each worker's database of this run (in .pytest_cache)")
URL = Option("--smtp-sink-url", "use a running mailtrap-lite at this URL instead (external mode)")
TIMEOUT = Option("--smtp-sink-timeout", "default seconds smtp_sink.wait_for waits (default 5)")


def add_options(parser: pytest.Parser) -> None:
    """Register the options with pytest, each as a flag and an ini key."""
    group = parser.getgroup("smtp_sink", "mailtrap-lite smtp_sink fixture")
    for option in (UI, MAILPIT, MAILHOG, KEEP):
        group.addoption(option.flag, action="store_true", default=None, dest=option.dest,
                        help=f"{option.help} (env {option.env})")  # fmt: skip
    for option in (URL, TIMEOUT):
        group.addoption(option.flag, default=None, dest=option.dest, metavar="VALUE",
                        help=f"{option.help} (env {option.env})")  # fmt: skip
    for option in (UI, MAILPIT, MAILHOG, KEEP, URL, TIMEOUT):
        parser.addini(option.dest, option.help, type="string", default="")


def resolve(config: pytest.Config) -> Settings:
    """Read every option (CLI > environment > ini); bad values are usage errors."""
    return Settings(
        ui=_value(config, UI, _boolean, False),
        mailpit=_value(config, MAILPIT, _boolean, False),
        mailhog=_value(config, MAILHOG, _boolean, False),
        keep=_value(config, KEEP, _boolean, False),
        url=_value(config, URL, _url, None),
        timeout=_value(config, TIMEOUT, _seconds, 5.0),
    )


def _value(config: pytest.Config, option: Option, parse: Callable[[str], T], default: T) -> T:
    given = config.getoption(option.dest)
    if given is not None:
        return _parsed(parse, str(given), option.flag)
    if option.env in os.environ:
        return _parsed(parse, os.environ[option.env], option.env)
    ini = str(config.getini(option.dest)).strip()
    return _parsed(parse, ini, option.dest) if ini else default


def _parsed(parse: Callable[[str], T], text: str, source: str) -> T:
    try:
        return parse(text)
    except ValueError as error:
        raise pytest.UsageError(f"{source}: {error}") from None


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise ValueError(f"expected one of {sorted(TRUE | FALSE - {''})}, got {text!r}")


def _url(text: str) -> str | None:
    text = text.strip()
    if text and not text.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL, got {text!r}")
    return text.rstrip("/") or None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 3600:
        raise ValueError(f"expected seconds between 0 and 3600, got {text!r}")
    return value

"""Options of the command line: each a flag, an environment variable and a help line.

Every option also reads `MAILTRAP_LITE_<OPTION>` (INTERFACE.md); a flag wins over the
environment, which wins over the default. Values are checked here, after argparse has read
the flags, so that an error names where the bad value came from: the flag, or the variable.
Errors are one line, `mailtrap-lite: error: ...; see --help`, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from mailtrap_lite.config import ConfigError

ENV_PREFIX = "MAILTRAP_LITE_"
EXIT_USAGE = 2
EXIT_FAILURE = 1  # a server that was serving stopped because a part of it failed
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


class UsageError(ConfigError):
    """A flag or variable that cannot be used; shown in one line with a pointer to --help."""


class Parser(argparse.ArgumentParser):
    """argparse, with errors raised as UsageError instead of printing the usage block."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class Option:
    """One option: its flag, what it does, how its text becomes a value, its default."""

    flag: str
    help: str
    parse: Callable[[str], Any] = str
    default: str | None = None  # as it would be typed; None: unset unless given
    metavar: str = "VALUE"
    shown_default: str | None = None  # what --help says when the default is not a literal
    switch: bool = False  # on when given (the variable takes 1/0, true/false, yes/no, on/off)
    repeat: bool = False  # may be given several times; the variable holds one per `separator`
    separator: str = ","
    # The variable's name when MAILTRAP_LITE_<OPTION> means something else to another
    # command (import's --tag T beside the server's --tag NAME=QUERY rules).
    variable: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env(self) -> str:
        return self.variable or ENV_PREFIX + self.dest.upper()

    def describe(self) -> str:
        """Return the --help text: what it does, its default and its variable."""
        default = self.shown_default or self.default
        parts = [self.help]
        if default is not None and not self.switch:
            parts.append(f"default: {default}")
        parts.append(f"env {self.env}")
        return f"{parts[0]} ({'; '.join(parts[1:])})"


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Register the options on a parser (their defaults are applied by `resolve`)."""
    for option in options:
        help_text = option.describe().replace("%", "%%")
        if option.switch:
            parser.add_argument(option.flag, action="store_true", default=None, help=help_text)
        elif option.repeat:
            parser.add_argument(option.flag, action="append", metavar=option.metavar,
                                default=None, help=help_text)  # fmt: skip
        else:
            parser.add_argument(option.flag, metavar=option.metavar, default=None, help=help_text)


def resolve(args: argparse.Namespace, options: Sequence[Option]) -> dict[str, Any]:
    """Return each option's value: the flag's, else the variable's, else the default."""
    return {option.dest: _value(option, getattr(args, option.dest)) for option in options}


def _value(option: Option, given: Any) -> Any:
    if option.switch:
        return True if given else _switch_from_env(option)
    if option.repeat:
        texts, source = _repeated(option, given)
        return [_parsed(option, text, source) for text in texts]
    if given is not None:
        return _parsed(option, given, option.flag)
    text = os.environ.get(option.env)
    if text is not None:
        return _parsed(option, text, option.env)
    return None if option.default is None else _parsed(option, option.default, option.flag)


def _switch_from_env(option: Option) -> bool:
    word = os.environ.get(option.env, "").strip().lower()
    if word not in TRUE | FALSE:
        raise UsageError(
            f"{option.env}: expected 1 or 0 (true/false, yes/no, on/off), got {word!r}"
        )
    return word in TRUE


def _repeated(option: Option, given: list[str] | None) -> tuple[list[str], str]:
    if given is not None:
        return given, option.flag
    text = os.environ.get(option.env, "")
    return [t.strip() for t in text.split(option.separator) if t.strip()], option.env


def _parsed(option: Option, text: str, source: str) -> Any:
    try:
        return option.parse(text)
    except (ValueError, TypeError) as error:
        raise UsageError(f"{source}: {error}") from None


# -- value parsers -----------------------------------------------------------------------------


def whole_number(text: str) -> int:
    """Parse a whole number of 0 or more."""
    if not text.strip().isdecimal() or not text.strip().isascii():
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """Parse a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected seconds, got {text!r}") from None
    if not value > 0:  # also refuses nan
        raise ValueError(f"expected a positive number of seconds, got {text!r}")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    """Return a parser that accepts one of `allowed` (any case)."""

    def parse(text: str) -> str:
        word = text.strip().lower()
        if word not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return word

    return parse

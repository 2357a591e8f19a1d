"""The command line: `mailtrap-lite [serve] [options]`, and its other subcommands.

`serve` is the default: `mailtrap-lite --smtp :2525` serves. Another subcommand is named
first (`mailtrap-lite COMMAND ...`) and has options of its own. Usage errors are one line
on stderr with exit status 2; so are an unusable database and an address in use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from mailtrap_lite.config import BindError, ConfigError
from mailtrap_lite.store import StorageError

from . import check, export, health, importing, migrate, serve
from .options import EXIT_USAGE, UsageError
from .serve import build_parser, config_from_args

__all__ = ["build_parser", "config_from_args", "main"]

# Subcommands other than serve, each `run(argv) -> exit status`.
COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {}
COMMANDS["export"] = export.run
COMMANDS["health"] = health.run
COMMANDS["import"] = importing.run
COMMANDS["check"] = check.run
COMMANDS["migrate"] = migrate.run


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = COMMANDS.get(args[0]) if args else None
    try:
        return command(args[1:]) if command is not None else serve.run(args)
    except UsageError as error:
        print(f"mailtrap-lite: error: {error}; see --help", file=sys.stderr)
    except ConfigError as error:
        print(f"mailtrap-lite: error: {error}", file=sys.stderr)
    except (StorageError, BindError) as error:
        print(f"mailtrap-lite: {error}", file=sys.stderr)
    return EXIT_USAGE

"""The version of mailtrap-lite, in one place (the package, the CLI and the API report it)."""

__version__ = "0.1.0"

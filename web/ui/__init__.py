"""The browser UI (blueprint `ui`): server-rendered pages, the message's content, sessions."""

from .pages import ui

__all__ = ["ui"]

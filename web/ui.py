"""The browser UI: server-rendered pages with small plain JavaScript modules."""

from __future__ import annotations

from flask import Blueprint

ui = Blueprint("ui", __name__, template_folder="templates", static_folder="static")


@ui.get("/")
def inbox() -> str:
    """Show the inbox (placeholder until the UI lands)."""
    return "mailtrap-lite"

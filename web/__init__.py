"""The web app: JSON API (blueprint `api`, /api/v1) and UI (blueprint `ui`)."""

from .app import create_app

__all__ = ["create_app"]

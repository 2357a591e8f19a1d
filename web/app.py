"""The Flask app factory: blueprints registered here, the Store reached through one accessor."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from mailtrap_lite.config import Config
from mailtrap_lite.faults import FaultRules
from mailtrap_lite.store import Store

EXTENSION = "mailtrap_lite"


@dataclass
class AppContext:
    """What every view may reach: the Store, the settings, the SMTP server's address and
    fault rules (None when the app serves a Store without an SMTP server)."""

    store: Store
    config: Config
    smtp_address: str | None
    faults: FaultRules | None = None


def create_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
) -> Flask:
    """Build the web app around a Store; nothing here opens sockets."""
    from .api import api
    from .security import install_security
    from .ui import ui

    app = Flask(__name__)
    app.extensions[EXTENSION] = AppContext(store, config, smtp_address, faults)
    install_security(app, config)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(ui)
    return app


def context() -> AppContext:
    """Return the running app's context (Store, settings)."""
    found: AppContext = current_app.extensions[EXTENSION]
    return found


def store() -> Store:
    """Return the running app's Store."""
    return context().store

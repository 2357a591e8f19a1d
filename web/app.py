"""The Flask app factory: blueprints registered here, the Store reached through one accessor."""

from __future__ import annotations

from flask import Flask

from mailtrap_lite.config import Config
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store

from .api import api
from .context import EXTENSION, AppContext
from .ids import IdConverter
from .limits import Gate
from .security import install_security
from .ui import ui


def create_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
) -> Flask:
    """Build the web app around a Store; nothing here opens sockets."""
    app = Flask(__name__)
    app.url_map.converters["id"] = IdConverter
    searches = Gate(config.http_max_searches, "searches")
    app.extensions[EXTENSION] = AppContext(store, config, smtp_address, faults, searches)
    install_security(app, config)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(ui)
    return app

"""The Flask app factory: blueprints registered here, the Store reached through one accessor."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite.config import Config
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store

from .api import API_PREFIX, api, json_error
from .context import EXTENSION, AppContext
from .security import install_security
from .ui import ui
from .ui.errors import error_page


def create_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
) -> Flask:
    """Build the web app around a Store; nothing here opens sockets."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = AppContext(store, config, smtp_address, faults)
    install_security(app, config)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(ui)
    app.register_error_handler(HTTPException, _answer_error)
    return app


def _answer_error(error: HTTPException) -> Response:
    """Answer errors as JSON under /api/ and as a page of the UI everywhere else."""
    return json_error(error) if request.path.startswith(API_PREFIX) else error_page(error)

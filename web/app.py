"""The Flask app factories: every web listener's app is built by `build_app`, one place.

`build_app` puts the Store in the app's context, installs the request guards of
security.py (the Host check, basic auth, body cap, CORS) and the error pages, then registers
blueprints. The main listener serves the JSON API, the UI and both compatible APIs under
/compat/; the --mailpit-http and --mailhog-http listeners serve one compatible API each from /.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from mailtrap_lite.checks import Checker, StoredReports
from mailtrap_lite.config import Config
from mailtrap_lite.services.counts import RuntimeCounts
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.store import Store

from .api import api, json_error
from .compat import mailhog, mailpit
from .compat.common import MergeSlashes
from .context import EXTENSION, AppContext
from .ids import IdConverter
from .limits import Gate
from .security import install_security
from .service import service
from .ui import ui
from .ui.errors import error_page

ErrorPage = Callable[[HTTPException], Response]
MAILPIT_ROOT = "/compat/mailpit"
MAILHOG_ROOT = "/compat/mailhog"


def build_app(
    store: Store,
    config: Config,
    smtp_address: str | None,
    faults: FaultRules | None,
    mounts: Sequence[tuple[Blueprint, str]],
    error_pages: Sequence[tuple[str, ErrorPage]],
    **services: Any,
) -> Flask:
    """Build one listener's app: context, guards, error pages by path prefix, blueprints.

    `services` are AppContext's optional parts: relay, webhooks, metrics, reports, counts,
    ready, searches. An app built without the App's deliverability reports or counts (a
    test's) gets its own; one built without a search cap shared with other listeners gets its
    own.
    """
    app = Flask(__name__)
    app.url_map.converters["id"] = IdConverter
    if services.get("reports") is None:
        services["reports"] = StoredReports(store, Checker.from_config(config))
    if services.get("searches") is None:
        services["searches"] = search_gate(config)
    if services.get("counts") is None:
        services["counts"] = RuntimeCounts(store)
    app.extensions[EXTENSION] = AppContext(store, config, smtp_address, faults, **services)
    install_security(app, config)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        for prefix, page in error_pages:
            if request.path.startswith(prefix):
                return page(error)
        return error

    for blueprint, prefix in mounts:
        app.register_blueprint(blueprint, url_prefix=prefix or None)
    app.wsgi_app = MergeSlashes(app.wsgi_app)  # type: ignore[method-assign]
    return app


def search_gate(config: Config) -> Gate:
    """Return a cap on searches at once (--max-searches); listeners of one server share one."""
    return Gate(config.http_max_searches, "searches")


def create_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
    **services: Any,
) -> Flask:
    """Build the main app: the JSON API, health and metrics, the UI, the compatible APIs."""
    mounts = [(api, "/api/v1"), (service, ""), (mailpit.routes, MAILPIT_ROOT),
              (mailhog.routes, MAILHOG_ROOT), (ui, "")]  # fmt: skip
    pages = [("/api/", json_error), (MAILPIT_ROOT + "/", mailpit.error_page),
             (MAILHOG_ROOT + "/", mailhog.error_page), ("/", error_page)]  # fmt: skip
    return build_app(store, config, smtp_address, faults, mounts, pages, **services)


def create_mailpit_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
    **services: Any,
) -> Flask:
    """Build the --mailpit-http app: Mailpit's API layout from / (and /livez, /readyz)."""
    mounts = [(service, ""), (mailpit.routes, "")]
    return build_app(store, config, smtp_address, faults, mounts, [("/", mailpit.error_page)],
                     **services)  # fmt: skip


def create_mailhog_app(
    store: Store,
    config: Config,
    smtp_address: str | None = None,
    faults: FaultRules | None = None,
    **services: Any,
) -> Flask:
    """Build the --mailhog-http app: MailHog's API layout from /."""
    mounts = [(service, ""), (mailhog.routes, "")]
    return build_app(store, config, smtp_address, faults, mounts, [("/", mailhog.error_page)],
                     **services)  # fmt: skip

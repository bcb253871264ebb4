"""Senim: the school psychological service's information system (a Kundelik plugin).

:func:`create_app` binds the extensions, blueprints, error handlers and CLI. Nothing else lives here.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, environment_overrides


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application for ``config_name`` (development, testing or production)."""
    name = config_name or os.environ.get("SENIM_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"Unknown configuration {name!r}; use one of {sorted(CONFIGS)}.")
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(CONFIGS[name])
    app.config.update(environment_overrides(name))
    if overrides:
        app.config.update(overrides)

    from app.core.startup import check_config, init_crypto

    check_config(app)
    init_crypto(app)
    if app.config.get("SENIM_BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    _init_extensions(app)
    from app.core import routing

    routing.register(app)  # before the blueprints' rules are built
    _register_blueprints(app)

    from app.auth import password_guard
    from app.core import errors, security, web

    errors.register(app)
    security.register(app)
    password_guard.register(app)  # after security: its first hook loads the request's user
    web.register(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app.core.i18n import select_locale, select_timezone
    from app.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    from app.core.database import install_liveness_check

    with app.app_context():
        for engine in db.engines.values():
            install_liveness_check(engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)

    from app.auth import sessions

    login_manager.request_loader(sessions.load_user_from_request)
    login_manager.login_view = "auth.login"


def _register_blueprints(app: Flask) -> None:
    from app.admin.views import bp as admin_bp
    from app.auth.views import bp as auth_bp
    from app.classes.views import bp as classes_bp
    from app.consent.views import bp as consent_bp
    from app.core.views import bp as core_bp
    from app.guidance.views import bp as guidance_bp
    from app.help.views import bp as help_bp
    from app.kundelik.sync_views import bp as kundelik_sync_bp
    from app.kundelik.views import bp as kundelik_bp
    from app.monitoring.views import bp as monitoring_bp
    from app.parents.views import bp as parents_bp
    from app.pupils.views import bp as pupils_bp
    from app.reports.views import bp as reports_bp
    from app.roster.views import bp as roster_bp
    from app.screening.views import bp as screening_bp
    from app.seminars.views import bp as seminars_bp
    from app.streetlaw.views import bp as street_law_bp

    for blueprint in (core_bp, auth_bp, admin_bp, pupils_bp, parents_bp, reports_bp, classes_bp,
                      consent_bp, screening_bp, roster_bp, monitoring_bp, help_bp, seminars_bp, street_law_bp,
                      guidance_bp, kundelik_bp,
                      kundelik_sync_bp):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from app.core.cli import audit_cli, demo_cli, keys_cli
    from app.core.mail_cli import mail_cli
    from app.guidance.cli import guidance_cli
    from app.kundelik.cli import kundelik_cli
    from app.kundelik.sync_cli import register as register_kundelik_sync
    from app.roster.cli import roster_cli
    from app.screening.cli import instruments as instruments_cli
    from app.screening.workflow_cli import screening_cli
    from app.seminars.cli import seminars_cli

    for group in (audit_cli, keys_cli, demo_cli, mail_cli, instruments_cli, screening_cli, roster_cli, seminars_cli,
                  guidance_cli, kundelik_cli):
        app.cli.add_command(group)
    register_kundelik_sync(kundelik_cli)

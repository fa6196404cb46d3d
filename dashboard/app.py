"""The composition root: ``create_app`` builds the Flask app from the areas' blueprints, the
extensions and the jobs' enqueue port; nothing runs at import time."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import (
    cli,
    credentials,
    errors,
    instance_files,
    keys,
    log_redaction,
    security_headers,
    templating,
)
from dashboard.admin import api_users, audit_log, carriers
from dashboard.api import konnektive, shipworks
from dashboard.auth import routes as auth
from dashboard.config import Config
from dashboard.database import init_database
from dashboard.extensions import csrf, db, limiter, login_manager, migrate
from dashboard.health import routes as health
from dashboard.houses import mappings, plugins
from dashboard.ids import IdConverter
from dashboard.orders import routes as orders
from dashboard.products import routes as products
from dashboard.support import board, fulfillments, imports, review
from dashboard.webhooks import routes as webhooks
from jobs import dispatch as dispatch_jobs

#: endpoints reachable without a dashboard login (they authenticate their own way)
PUBLIC_BLUEPRINTS = {"auth", "api", "webhooks", "shipworks", "health"}


def create_app(config: dict | None = None) -> Flask:
    """Build the app: defaults, then the instance folder's settings, then ``config``."""
    app = Flask(__name__, instance_path=Config.INSTANCE_DIR, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    app.config.from_object(Config)
    app.config.from_pyfile("settings.py", silent=True)
    if config:
        app.config.update(config)
    keys.load(app)  # refuses before anything is written
    instance_files.private_dir(app.config["INSTANCE_DIR"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"],
                                x_proto=app.config["PROXY_COUNT"])

    db.init_app(app)
    init_database(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.session_protection = "strong"
    credentials.init_app(app)
    limiter.init_app(app)

    webhook_routes = webhooks.blueprint()  # a route per webhook the houses declare
    for bp in (auth.bp, board.bp, plugins.bp, products.bp, orders.bp, fulfillments.bp,
               review.bp, imports.bp, mappings.bp, carriers.bp, api_users.bp, audit_log.bp,
               konnektive.bp, shipworks.bp, webhook_routes, health.bp):
        app.register_blueprint(bp)
    for bp in (konnektive.bp, shipworks.bp, webhook_routes):  # each call proves itself
        csrf.exempt(bp)
    cli.init_app(app)
    dispatch_jobs.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)

    @app.get("/healthz")
    def healthz():
        """For load balancers: the process answers (it touches nothing else)."""
        return "ok", 200, {"Content-Type": "text/plain"}

    @app.before_request
    def refuse_nul_characters():
        """No person types a NUL character and PostgreSQL cannot store one: refuse it
        plainly before it reaches a query."""
        if request.blueprint in PUBLIC_BLUEPRINTS - {"auth"}:
            return None  # the API and webhooks answer in their own error shapes
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                if "\x00" in value:
                    return (f"The field {name!r} contains a NUL character; remove it and try "
                            "again.", 400, {"Content-Type": "text/plain; charset=utf-8"})
        return None

    @app.before_request
    def require_login():
        if request.blueprint in PUBLIC_BLUEPRINTS or request.endpoint in (None, "static",
                                                                          "healthz"):
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        return None

    logging.getLogger("dashboard").setLevel(logging.INFO)
    log_redaction.install()
    return app


def _instance_secret(app: Flask) -> str:
    path = Path(app.config["INSTANCE_DIR"]) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()

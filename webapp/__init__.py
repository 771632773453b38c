"""Broadcaster's Flask application factory: `create_app()` serves the web, the workers and the CLI."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import redis
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.compiled_templates import COMPILED
from webapp.config import ROOT, Config
from webapp.extensions import csrf, db, htmx, login_manager, migrate
from webapp.log_redaction import install as redact_logs
from webapp.private_files import close_instance, restrict_new_files


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL for concurrent readers beside one writer, enforced foreign keys, and patience for locks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_app(overrides: dict | None = None) -> Flask:
    restrict_new_files()  # first: Config() creates instance/ and the secret key
    redact_logs()
    settings = {**vars(Config()), **(overrides or {})}
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.jinja_options = {**app.jinja_options, "bytecode_cache": COMPILED}  # before the first template
    app.config.update(settings)
    if hops := app.config["TRUSTED_PROXY_HOPS"]:
        # The client's address and scheme as the trusted proxies saw them (login throttling counts addresses).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    close_instance(Path(app.instance_path), Path(app.config["UPLOAD_FOLDER"]),
                   app.config["SQLALCHEMY_DATABASE_URI"])

    _init_redis(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    with app.app_context():
        # A forked RQ work-horse must not share the parent's database connections.
        engine = db.engine
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))

    # Imported when an app is built, not at the top: every `import webapp.<module>` runs this file first,
    # and a script or the sandbox importing one module need not load every page.
    from webapp import models  # noqa: F401 - every model registered before anything queries
    from webapp.api.views import bp as api_bp
    from webapp.audience.directory_views import bp as directory_bp
    from webapp.audience.views import bp as audience_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.campaigns.views import bp as campaigns_bp
    from webapp.compat.blueprint import register as register_compat
    from webapp.contacts.views import bp as contacts_bp
    from webapp.dashboard.reports import bp as reports_bp
    from webapp.dashboard.views import bp as dashboard_bp
    from webapp.inbox.views import bp as inbox_bp
    from webapp.sandbox.views import bp as sandbox_bp
    from webapp.settings.views import bp as settings_bp
    from webapp.tracking.redirect import bp as clicks_bp
    from webapp.tracking.views import bp as tracking_bp
    from webapp.url_numbers import IdConverter
    from webapp.url_rules import LazyRule
    from webapp.web import register_web
    from webapp.webhooks.views import bp as webhooks_bp

    app.url_rule_class = LazyRule  # before the blueprints add their routes: builders compiled when first used
    app.url_map.converters["id"] = IdConverter  # <id:campaign_id>: only ids a database column can hold
    for blueprint in (auth_bp, dashboard_bp, reports_bp, settings_bp, directory_bp, contacts_bp, audience_bp,
                      campaigns_bp, tracking_bp, clicks_bp, webhooks_bp, inbox_bp, api_bp, sandbox_bp):
        app.register_blueprint(blueprint)
    register_compat(app)
    app.add_url_rule("/healthz", "health", lambda: {"ok": True})
    register_web(app)
    # Issue #20: the click redirect's front door answers /r/<code> before Flask (webapp/tracking/front.py).
    from webapp.tracking.front import RedirectFront
    app.wsgi_app = RedirectFront(app, engine.url)
    # And Meta's webhook POSTs before Flask too (webapp/webhooks/front.py): the same rules, in a fraction of the CPU.
    from webapp.webhooks.front import WebhookFront
    app.wsgi_app = WebhookFront(app)
    _register_cli(app)
    return app


def _init_redis(app: Flask) -> None:
    from webapp import private_redis

    if not app.config["REDIS_URL"]:
        app.config["REDIS_URL"], _ = private_redis.start(Path(app.instance_path))
    app.extensions["redis"] = redis.Redis.from_url(app.config["REDIS_URL"], health_check_interval=30)


def _register_cli(app: Flask) -> None:
    from webapp.auth.cli import users_cli
    from webapp.dashboard.cli import dashboard_cli
    from webapp.sandbox.cli import sandbox_cli
    from webapp.settings.cli import secrets_cli
    from webapp.webhooks.cli import webhooks_cli
    from webapp.worker import cron_command, worker_command

    for command in (users_cli, worker_command, cron_command, webhooks_cli, sandbox_cli, secrets_cli, dashboard_cli):
        app.cli.add_command(command)

"""The schema changes only through migrations, and the migrations match the models."""
import logging

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from webapp.config import ROOT
from webapp.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_an_upgrade_leaves_the_apps_own_logging_working(app):
    app.logger.info("started")  # the app's logger exists, as in any process that upgrades (make run's launcher)
    upgrade(directory=str(ROOT / "migrations"))  # alembic's env.py reads its logging configuration
    heard = []
    handler = logging.Handler()
    handler.emit = heard.append
    app.logger.addHandler(handler)
    try:
        app.logger.warning("Still heard after the upgrade")
    finally:
        app.logger.removeHandler(handler)
    assert [record.getMessage() for record in heard] == ["Still heard after the upgrade"]

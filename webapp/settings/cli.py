"""`flask secrets rotate`: after SECRET_KEY changes, re-encrypt the secrets stored with the previous one
(sender access tokens, the webhook's app secret and verify token; see webapp/encryption.py)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.encryption import SecretUnreadable, rotate
from webapp.extensions import db


@click.group("secrets")
def secrets_cli() -> None:
    """Secrets stored encrypted with a key derived from SECRET_KEY."""


@secrets_cli.command("rotate")
@click.option("--old-key", envvar="OLD_SECRET_KEY", prompt="The previous SECRET_KEY", hide_input=True,
              help="The SECRET_KEY the secrets were stored with (or OLD_SECRET_KEY; asked for when absent).")
@with_appcontext
def rotate_command(old_key: str) -> None:
    """Re-encrypt every stored secret with the current SECRET_KEY: all of them, or none if one does not open."""
    try:
        count = rotate(db.session, db.metadata, old_key, current_app.config["SECRET_KEY"])
    except SecretUnreadable as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Re-encrypted {count} secrets with the current SECRET_KEY.")

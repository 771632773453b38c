"""`flask dashboard rebuild`: the dashboard's daily figures computed again from the recipient rows."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.campaigns.daily import rebuild
from webapp.extensions import db
from webapp.transactions import begin_write
from webapp.webhooks.inbound import opt_out_answers


@click.group("dashboard")
def dashboard_cli() -> None:
    """The Reports page's daily figures."""


@dashboard_cli.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Refill the daily figures from every recipient row (after an upgrade, or to repair them); set-based, in one
    transaction."""
    begin_write(db.session)
    rebuild(db.session, opt_out_answers())
    db.session.commit()
    click.echo("The dashboard's daily figures were rebuilt from the recipient rows.")

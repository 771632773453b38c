"""`flask users …` for scripts and admins at a shell."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.auth.models import User
from webapp.auth.services import AccountError, choose_password, create_user, normalise_email
from webapp.extensions import db


@click.group("users")
def users_cli() -> None:
    """Manage staff accounts."""


@users_cli.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--name", default="")
@click.password_option(envvar="BROADCASTER_PASSWORD")
@with_appcontext
def create(email: str, admin: bool, name: str, password: str) -> None:
    """Create an account (password from the prompt or BROADCASTER_PASSWORD)."""
    try:
        user = create_user(email, password, role="admin" if admin else "staff", name=name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(envvar="BROADCASTER_PASSWORD")
@with_appcontext
def set_password(email: str, password: str) -> None:
    """Give an account a new password (the way back in for an owner who forgot it); its sessions end."""
    user = db.session.query(User).filter_by(email=normalise_email(email)).one_or_none()
    if user is None:
        raise click.ClickException(f"There is no account {email}.")
    try:
        choose_password(user, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"The password of {user.email} was changed; their open sessions have ended.")

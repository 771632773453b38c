"""Setup (only while there is no user), login, logout."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp.auth.forms import LoginForm, SetupForm
from webapp.auth.models import User
from webapp.auth.services import AccountError, LoginThrottle, create_user, needs_setup, normalise_email
from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email and password do not match an active account."


def safe_next(target: str | None) -> str:
    """Follow `next=` only to a path on this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
    return url_for("dashboard.index")


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not needs_setup():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.password.data, role="admin", name=form.name.data)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            WorkspaceSettings.get().business_name = form.business_name.data.strip()
            db.session.commit()
            login_user(user)
            flash("Welcome! Your administrator account is ready.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if needs_setup():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        throttle = LoginThrottle()
        address = request.remote_addr or "unknown"
        wait = throttle.retry_after(form.email.data, address)
        if wait:
            flash(f"Too many failed attempts. Try again in {max(1, round(wait / 60))} minute(s).", "error")
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(User.email == normalise_email(form.email.data)))
        if user is None or not user.active or not user.check_password(form.password.data):
            throttle.failed(form.email.data, address)
            flash(LOGIN_FAILED, "error")
            return render_template("auth/login.html", form=form), 200
        throttle.succeeded(form.email.data, address)
        user.last_login_at = utcnow()
        db.session.commit()
        login_user(user, remember=form.remember.data)
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("auth.login"))

"""Setup (only while there is no user), login, logout, and changing one's own password."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth.forms import ChangePasswordForm, LoginForm, SetupForm
from webapp.auth.services import (
    AccountError,
    TooManyAttempts,
    authenticate,
    change_own_password,
    create_user,
    needs_setup,
)
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

bp = Blueprint("auth", __name__)


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
            form[exc.field].errors.append(str(exc))
        else:
            settings = WorkspaceSettings.get()
            settings.business_name = form.business_name.data.strip()
            settings.timezone = form.timezone.data or "UTC"
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
        try:
            # Behind trusted proxies, ProxyFix (create_app) has put the client's own address here.
            user = authenticate(form.email.data, form.password.data, request.remote_addr or "unknown")
        except AccountError as exc:
            flash(str(exc), "error")
            return render_template("auth/login.html", form=form), 429 if isinstance(exc, TooManyAttempts) else 200
        db.session.commit()
        login_user(user, remember=form.remember.data)
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    current_user.end_sessions()  # on every browser, and any copy of the cookies too
    db.session.commit()
    logout_user()
    flash("You are logged out, here and on every other browser.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form, user = ChangePasswordForm(), current_user._get_current_object()
    if form.validate_on_submit():
        try:
            change_own_password(user, form.current_password.data, form.password.data)
        except AccountError as exc:
            form[exc.field].errors.append(str(exc))
        else:
            db.session.commit()
            # Every other session has ended; this one goes on, remembered if it was.
            login_user(user, remember=current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies)
            flash("Your password is changed. You were logged out everywhere else.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200

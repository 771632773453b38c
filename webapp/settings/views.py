"""Settings → Workspace and Users; importing this module brings every settings page onto the blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.auth.models import User
from webapp.auth.services import AccountError, choose_password, create_user
from webapp.extensions import db
from webapp.settings import api_keys, events, pricing, senders  # noqa: F401 - the other tabs' pages
from webapp.settings.blueprint import bp
from webapp.settings.forms import NewUserForm, ResetPasswordForm, WorkspaceForm
from webapp.workspace.models import WorkspaceSettings


@bp.route("/", methods=["GET", "POST"])
def index():
    settings = WorkspaceSettings.get()
    form = WorkspaceForm(obj=settings)
    if form.validate_on_submit():
        kept_secret = settings.meta_app_secret  # a blank field keeps it: secrets are never shown back
        form.populate_obj(settings)
        settings.meta_app_secret = form.meta_app_secret.data or kept_secret
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("settings.index"))
    form.meta_app_secret.data = ""
    return render_template("settings/index.html", form=form, has_secret=bool(settings.meta_app_secret))


@bp.get("/users")
def users():
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("settings/users.html", users=people, form=NewUserForm())


@bp.post("/users")
def add_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.password.data, role=form.role.data, name=form.name.data)
        except AccountError as exc:
            form[exc.field].errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{user.email} can now log in.", "success")
            return redirect(url_for("settings.users"))
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("settings/users.html", users=people, form=form), 422


def _other_user(user_id: int) -> User:
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        abort(403, "You cannot disable or reset your own account here.")
    return user


@bp.post("/users/<id:user_id>/toggle")
def toggle_user(user_id: int):
    user = _other_user(user_id)
    user.active = not user.active
    user.end_sessions()  # a disabled user's open sessions end now
    db.session.commit()
    flash(f"{user.email} is {'enabled' if user.active else 'disabled'}.", "success")
    return redirect(url_for("settings.users"))


@bp.route("/users/<id:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    user = _other_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            choose_password(user, form.password.data)
        except AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"The password of {user.email} was reset; their open sessions have ended.", "success")
            return redirect(url_for("settings.users"))
    return render_template("settings/reset_password.html", form=form, user=user), 422 if form.errors else 200


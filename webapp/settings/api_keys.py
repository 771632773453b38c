"""Settings → API keys: admins create scoped keys for other programs, see each one's last use, and revoke them;
and they choose which compat APIs (webapp/compat/: other products' broadcast APIs) the workspace answers."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.api import keys
from webapp.api.models import SCOPES, ApiKey
from webapp.api.schemas import SCOPE_DESCRIPTIONS
from webapp.extensions import db
from webapp.settings.blueprint import bp
from webapp.workspace.models import COMPAT_APIS, WorkspaceSettings


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)],
                       description="Who or what uses it, e.g. “Shop backend”.")
    scopes = SelectMultipleField("Scopes", choices=[SelectChoice(s, f"{s} — {SCOPE_DESCRIPTIONS[s]}") for s in SCOPES],
                                 option_widget=CheckboxInput(),  # none checked: an admin grants each one
                                 widget=ListWidget(prefix_label=False))
    rate_per_minute = IntegerField("Requests per minute", default=keys.DEFAULT_RATE,
                                   validators=[InputRequired(), NumberRange(1, keys.MAX_RATE)])


class CompatApisForm(FlaskForm):
    apis = SelectMultipleField("Compatible APIs", choices=[SelectChoice(name, text) for name, text in COMPAT_APIS.items()], option_widget=CheckboxInput(),
                               widget=ListWidget(prefix_label=False),
                               description="A program written for one of these products talks to this server by "
                                           "changing its base URL to /compat/<name> and its key to one of ours. "
                                           "Off until checked here.")


def _page(form: ApiKeyForm, created: keys.NewKey | None = None, status: int = 200,
          compat_form: CompatApisForm | None = None):
    compat_form = compat_form or CompatApisForm(formdata=None, apis=WorkspaceSettings.get().compat_apis or [])
    answer = make_response(render_template("settings/api_keys.html", form=form, api_keys=keys.all_keys(db.session),
                                           created=created, shown_prefix=keys.shown_prefix,
                                           compat_form=compat_form), status)
    if created is not None:
        answer.headers["Cache-Control"] = "no-store"  # the page holds a secret shown once
    return answer


@bp.get("/api-keys")
def api_keys():
    return _page(ApiKeyForm(formdata=None))


@bp.post("/api-keys")
def create_api_key():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        created = keys.create(db.session, form.name.data, form.scopes.data or [], form.rate_per_minute.data,
                              user_id=current_user.id)
    except keys.ApiKeyError as error:
        db.session.rollback()
        getattr(form, error.field or "name").errors.append(error.message)
        return _page(form, status=422)
    db.session.commit()
    # Answered directly rather than redirected: the secret is shown this once and kept nowhere, not even in a flash.
    return _page(ApiKeyForm(formdata=None), created=created, status=201)


@bp.post("/api-keys/<id:key_id>/revoke")
def revoke_api_key(key_id: int):
    key = db.session.get(ApiKey, key_id) or abort(404)
    if keys.revoke(db.session, key):
        db.session.commit()
        flash(f"The key “{key.name}” ({keys.shown_prefix(key)}) is revoked: it is refused from now on.", "success")
    return redirect(url_for("settings.api_keys"))


@bp.post("/api-keys/compat")
def save_compat_apis():
    form = CompatApisForm()
    if not form.validate_on_submit():
        return _page(ApiKeyForm(formdata=None), status=422, compat_form=form)
    chosen = [name for name in COMPAT_APIS if name in (form.apis.data or [])]
    WorkspaceSettings.get().compat_apis = chosen
    db.session.commit()
    flash("Compatible APIs: " + (", ".join(f"/compat/{name}" for name in chosen) + " answer now." if chosen
                                 else "none enabled; every /compat/ path answers 404."), "success")
    return redirect(url_for("settings.api_keys"))

"""Settings → Sender numbers and Templates: the numbers campaigns send from, and the templates synced for them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from webapp.campaigns.variables import media_header, slots
from webapp.cloudapi import CloudAPIError
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.senders.quality import sync_number
from webapp.senders.services import sync_templates
from webapp.settings.blueprint import bp
from webapp.settings.sender_forms import SenderForm

# Meta's quality ratings, as badges and words.
QUALITY_BADGES = {"GREEN": ("done", "High"), "YELLOW": ("pending", "Medium"), "RED": ("failed", "Low"),
                  "UNKNOWN": ("cancelled", "Not known yet")}
# Meta's template statuses, as badges.
TEMPLATE_BADGES = {"APPROVED": "done", "PENDING": "pending", "IN_APPEAL": "pending", "PAUSED": "paused",
                   "REJECTED": "failed", "DISABLED": "failed", "DELETED": "cancelled"}


def _sender(sender_id: int) -> Sender:
    return db.session.get(Sender, sender_id) or abort(404)


@bp.get("/senders")
def senders():
    numbers = db.session.scalars(select(Sender).order_by(Sender.label, Sender.id)).all()
    approved = dict(db.session.execute(select(Template.waba_id, func.count()).where(Template.status == "APPROVED")
                                       .group_by(Template.waba_id)).all())
    return render_template("settings/senders.html", senders=numbers, approved=approved, quality=QUALITY_BADGES)


@bp.route("/senders/new", methods=["GET", "POST"])
def new_sender():
    form = SenderForm()
    if form.validate_on_submit():
        sender = Sender()
        form.apply_to(sender)
        db.session.add(sender)
        db.session.commit()
        flash(f"{sender.label} added. Sync its templates to compose campaigns with them.", "success")
        return redirect(url_for("settings.senders"))
    return render_template("settings/sender_form.html", form=form, sender=None), 422 if form.errors else 200


@bp.route("/senders/<id:sender_id>/edit", methods=["GET", "POST"])
def edit_sender(sender_id: int):
    sender = _sender(sender_id)
    form = SenderForm(sender=sender)
    if form.validate_on_submit():
        form.apply_to(sender)
        db.session.commit()
        flash(f"{sender.label} saved.", "success")
        return redirect(url_for("settings.senders"))
    return render_template("settings/sender_form.html", form=form, sender=sender), 422 if form.errors else 200


@bp.get("/templates")
def templates():
    numbers = db.session.scalars(select(Sender).order_by(Sender.label, Sender.id)).all()
    found = db.session.scalars(select(Template).order_by(Template.name, Template.language)).all()
    by_account: dict[str, list[Template]] = {}
    for template in found:
        by_account.setdefault(template.waba_id, []).append(template)
    return render_template("settings/templates.html", senders=numbers, by_account=by_account,
                           needs={t.id: _needs(t) for t in found}, badges=TEMPLATE_BADGES)


def _needs(template: Template) -> list[str]:
    """What a campaign fills in for this template, as the compose page names it."""
    media = media_header(template.components, template.parameter_format)
    return ([f"{media.capitalize()} header"] if media else []) + \
        [slot.label for slot in slots(template.components, template.parameter_format)]


@bp.post("/senders/<id:sender_id>/sync")
def sync_sender_templates(sender_id: int):
    sender = _sender(sender_id)
    try:
        changed = sync_templates(sender)
        number = sync_number(sender)
    except CloudAPIError as error:
        db.session.rollback()
        flash(_sync_failure(sender, error), "error")
    else:
        db.session.commit()
        flash(f"Templates of {sender.label} synced: {changed['added']} new, {changed['updated']} updated, "
              f"{changed['removed']} no longer on Meta. Quality rating: "
              f"{QUALITY_BADGES[number['quality_rating']][1].lower()}.", "success")
    return redirect(url_for("settings.templates"))


def _sync_failure(sender: Sender, error: CloudAPIError) -> str:
    if error.code == 190:
        return (f"Meta refused the access token of {sender.label} (error 190): it is wrong or has expired. "
                "Paste a new token in the number's settings, then sync again.")
    if error.code is None and error.http_status is None:
        return f"Could not reach the Graph API for {sender.label}: {error.message}. Try again in a moment."
    return f"The Graph API refused to list the templates of {sender.label}: {error}."

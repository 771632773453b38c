"""Campaign pages: the index, compose (with its htmx fragments), and each campaign's page and controls."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from webapp.campaigns import presenters, services
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.forms import ComposeForm, ScheduleForm, TestSendForm, initial, initial_new
from webapp.campaigns.models import Campaign
from webapp.campaigns.variables import SOURCES
from webapp.extensions import db
from webapp.fragments import answer, targets
from webapp.tracking import campaign_page
from webapp.url_numbers import number_arg, page_arg
from webapp.workspace.zone import localtime, workspace_zone

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


def _campaign(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


@bp.app_context_processor
def _send_again():
    """For templates/campaigns/partials/send_again.html, wherever a finished campaign's actions are drawn, and the
    sending window of the campaign's facts."""
    return {"send_again_choices": presenters.send_again_choices, "sending_window": presenters.sending_window}


# --- Index ---------------------------------------------------------------------------------------

@bp.get("/")
def index():
    status = request.args.get("status") if request.args.get("status") in presenters.STATUS_FILTERS else None
    page = presenters.campaigns_page(status, page_arg(request.args))
    readiness = presenters.readiness() if not page.rows and not status else None
    template = "campaigns/partials/campaign_table.html" if targets("campaign-table") else "campaigns/index.html"
    return answer(template, page=page, status=status, readiness=readiness, statuses=presenters.STATUS_FILTERS)


# --- Compose -------------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _compose(ComposeForm(data=initial_new(number_arg(request.args, "retarget"),
                                                     request.args.get("outcome"))))
    form = ComposeForm()
    if form.validate_on_submit():
        try:
            campaign = services.save_draft(form.draft(), user_id=current_user.id)
        except CampaignError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(f"Draft “{campaign.name}” saved. Check the preview, send a test, then send it or schedule it.",
                  "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return _compose(form, status=422)


@bp.route("/<id:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    if not campaign.is_editable:
        flash(f"“{campaign.name}” is {campaign.label.lower()}: only draft or scheduled campaigns can be edited.",
              "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    kept = (campaign.audience or {}).get("segment")
    if request.method == "GET":
        return _compose(ComposeForm(data=initial(campaign), kept_segment=kept), campaign)
    form = ComposeForm(kept_segment=kept)
    if form.validate_on_submit():
        try:
            services.save_draft(form.draft(), campaign)
        except CampaignError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(f"“{campaign.name}” saved.", "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return _compose(form, campaign, status=422)


def _compose(form: ComposeForm, campaign: Campaign | None = None, status: int = 200):
    parts = _variables_parts(form)
    return render_template("campaigns/compose.html", form=form, campaign=campaign,
                           errors=form.error_items(parts["slots"], parts["buttons"]),
                           **parts, **_preview_parts(form)), status


def _variables_parts(form: ComposeForm) -> dict:
    """The chosen template's variables and quick-reply buttons as rows of the form, and its media header if any."""
    return {"slots": presenters.slot_rows(form.chosen_template, form.variables.data, form.variable_errors),
            "buttons": presenters.button_rows(form.chosen_template, form.button_payloads.data, form.variable_errors),
            "media": presenters.media_kind(form.chosen_template), "sources": SOURCES}


def _preview_parts(form: ComposeForm) -> dict:
    """The live preview of the form as it stands, and the attributes its audience offers."""
    draft = form.draft()
    unsaved = presenters.draft_campaign(draft)
    known = presenters.audience_attributes(draft)
    return {"preview": presenters.preview(unsaved, known) if unsaved else None, "attributes": known}


@bp.get("/compose/message")
def compose_message():
    """The sender changed: its templates, and the variables of the template if it is still one of them."""
    return _fragment("campaigns/partials/message_fields.html")


@bp.get("/compose/variables")
def compose_variables():
    """The template changed: the variables fieldset for it."""
    return _fragment("campaigns/partials/variables.html")


def _fragment(template: str):
    """A part of the compose form, read from the htmx GET's query (no CSRF: nothing changes)."""
    form = ComposeForm(formdata=request.args, meta={"csrf": False})
    response = make_response(render_template(template, form=form, **_variables_parts(form)))
    response.headers["HX-Trigger-After-Settle"] = "compose-changed"  # the preview follows the new fields
    return response


@bp.post("/compose/preview")
def compose_preview():
    """The live preview and forecast of the compose form as it stands (nothing is saved)."""
    form = ComposeForm()
    return render_template("campaigns/partials/compose_preview.html", oob=True, **_preview_parts(form))


# --- The campaign page -------------------------------------------------------------------------------

@bp.get("/<id:campaign_id>")
def show(campaign_id: int):
    return _show(_campaign(campaign_id))


def _show(campaign: Campaign, schedule_form: ScheduleForm | None = None, test_form: TestSendForm | None = None,
          status: int = 200):
    """The whole page, drawn from the same state its poll (tracking.live) answers with."""
    return render_template("campaigns/show.html", **campaign_page.parts(campaign, schedule_form=schedule_form,
                                                                        test_form=test_form)), status


def _refused(campaign_id: int, error: CampaignError, schedule_form: ScheduleForm | None = None,
             test_form: TestSendForm | None = None):
    """A service said no: the message goes on the field it names, or in a flash; the page answers 409 or 422."""
    db.session.rollback()
    field = next((getattr(form, error.field) for form in (schedule_form, test_form)
                  if form is not None and error.field and hasattr(form, error.field)), None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
    return _show(_campaign(campaign_id), schedule_form, test_form, 409 if error.code == "conflict" else 422)


def _control(campaign_id: int, action, done):
    """Run one state change; on success flash `done(campaign, result)` and show the campaign again."""
    campaign = _campaign(campaign_id)
    try:
        result = action(campaign)
    except CampaignError as error:
        return _refused(campaign_id, error)
    db.session.commit()
    flash(done(campaign, result), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/<id:campaign_id>/launch")
def launch(campaign_id: int):
    return _control(campaign_id, services.launch,
                    lambda c, _: f"“{c.name}” is on its way: its recipients are being prepared and sending starts "
                                 "in a moment.")


@bp.post("/<id:campaign_id>/unschedule")
def unschedule(campaign_id: int):
    return _control(campaign_id, services.unschedule, lambda c, _: f"“{c.name}” is no longer scheduled; it is a draft.")


@bp.post("/<id:campaign_id>/pause")
def pause(campaign_id: int):
    return _control(campaign_id, services.pause, lambda c, _: f"“{c.name}” is paused; no new message starts.")


@bp.post("/<id:campaign_id>/resume")
def resume(campaign_id: int):
    return _control(campaign_id, services.resume, lambda c, cleared: f"“{c.name}” is sending again." + (
        " The quality guardrail is cleared for it: the rest goes out without waiting on the first slice."
        if cleared else ""))


@bp.post("/<id:campaign_id>/cancel")
def cancel(campaign_id: int):
    return _control(campaign_id, services.cancel,
                    lambda c, count: f"“{c.name}” is cancelled; {count:,} message{'' if count == 1 else 's'} "
                                    "not yet sent will not be sent.")


@bp.post("/<id:campaign_id>/unknown/resend")
def resend_unknown(campaign_id: int):
    return _control(campaign_id, lambda c: services.settle_unknown(c, resend=True),
                    lambda c, count: f"{count:,} recipient{'' if count == 1 else 's'} with an unknown fate will be "
                                     "sent the message again.")


@bp.post("/<id:campaign_id>/unknown/fail")
def fail_unknown(campaign_id: int):
    return _control(campaign_id, lambda c: services.settle_unknown(c, resend=False),
                    lambda c, count: f"{count:,} recipient{'' if count == 1 else 's'} with an unknown fate now "
                                     "count as failed.")


@bp.post("/<id:campaign_id>/schedule")
def schedule(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _show(campaign, schedule_form=form, status=422)
    try:
        services.schedule(campaign, form.when())
    except CampaignError as error:
        return _refused(campaign_id, error, schedule_form=form)
    db.session.commit()
    flash(f"“{campaign.name}” will be sent on {localtime(campaign.scheduled_at)} ({workspace_zone().key}).",
          "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/<id:campaign_id>/test")
def send_test(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = TestSendForm()
    if not form.validate_on_submit():
        return _show(campaign, test_form=form, status=422)
    try:
        sent = services.send_test(campaign, form.test_phone.data)
    except CampaignError as error:
        return _refused(campaign_id, error, test_form=form)
    if campaign.sender.is_sandbox:
        flash(Markup('Sent to {} — <a href="{}">open Sandbox phone</a> to see it.').format(
            sent.display, url_for("sandbox.phone", number=sent.phone)), "success")
    else:
        flash(f"Sent to {sent.display} — it arrives in that phone's WhatsApp in a moment.", "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/<id:campaign_id>/delete")
def delete(campaign_id: int):
    campaign = _campaign(campaign_id)
    name = campaign.name
    try:
        services.delete(campaign)
    except CampaignError as error:
        return _refused(campaign_id, error)
    db.session.commit()
    flash(f"“{name}” deleted.", "success")
    return redirect(url_for("campaigns.index"))

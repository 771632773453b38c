"""Settings → Events: admins register the HTTPS endpoints that receive signed events, choose their types, send a
test, read the delivery log (filtered), replay a delivery, rotate a secret, and enable an endpoint disabled after a
day of failures."""
from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.events import deliveries, endpoints
from webapp.events.errors import EventsError
from webapp.events.models import DELIVERY_STATUSES, EVENT_TYPES, TEST_EVENT, EventDelivery, EventEndpoint
from webapp.extensions import db
from webapp.settings.blueprint import bp
from webapp.url_numbers import number_arg


class EndpointForm(FlaskForm):
    url = StringField("URL", validators=[InputRequired(), Length(max=2000)],
                      description="Where events are POSTed, e.g. https://shop.example.com/broadcaster-events.")
    description = StringField("Description", validators=[Length(max=200)], description="Optional: who receives them.")
    event_types = SelectMultipleField("Events", choices=[SelectChoice(t, f"{t} — {words}")
                                                         for t, words in EVENT_TYPES.items()],
                                      option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


def _allow_private() -> bool:
    return current_app.config["EVENTS_ALLOW_PRIVATE"]


def _page(form: EndpointForm, secret_for: EventEndpoint | None = None, status: int = 200):
    filters = {"endpoint_id": number_arg(request.args, "endpoint_id"),
               "status": request.args.get("status", "") if request.args.get("status") in DELIVERY_STATUSES else "",
               "event_type": request.args.get("type", "") if request.args.get("type") in (*EVENT_TYPES, TEST_EVENT)
               else ""}
    known = endpoints.all_endpoints(db.session)
    answer = make_response(render_template(
        "settings/events.html", form=form, endpoints=known, secret_for=secret_for, filters=filters,
        log=deliveries.log(db.session, **filters), types=(*EVENT_TYPES, TEST_EVENT), statuses=DELIVERY_STATUSES,
        url_of={endpoint.id: endpoint.url for endpoint in known}), status)
    if secret_for is not None:
        answer.headers["Cache-Control"] = "no-store"  # the page holds a secret shown once
    return answer


def _endpoint(endpoint_id: int) -> EventEndpoint:
    return db.session.get(EventEndpoint, endpoint_id) or abort(404)


def _refused(form: EndpointForm, error: EventsError) -> None:
    db.session.rollback()
    getattr(form, error.field or "url").errors.append(error.message)


@bp.get("/events")
def events():
    return _page(EndpointForm(formdata=None))


@bp.post("/events")
def create_endpoint():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = endpoints.register(db.session, form.url.data, form.event_types.data or [], form.description.data,
                                          allow_private=_allow_private(), user_id=current_user.id)
        except EventsError as error:
            _refused(form, error)
        else:
            db.session.commit()
            # Answered, not redirected: the secret is shown this once and kept nowhere else, not even in a flash.
            return _page(EndpointForm(formdata=None), secret_for=endpoint, status=201)
    return _page(form, status=422)


@bp.route("/events/<id:endpoint_id>/edit", methods=["GET", "POST"])
def edit_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(obj=endpoint)
    if form.validate_on_submit():
        try:
            endpoints.edit(db.session, endpoint, form.url.data, form.event_types.data or [], form.description.data,
                           allow_private=_allow_private())
        except EventsError as error:
            _refused(form, error)
        else:
            db.session.commit()
            flash(f"The endpoint {endpoint.url} is saved.", "success")
            return redirect(url_for("settings.events"))
    status = 422 if form.errors else 200
    return render_template("settings/event_endpoint_form.html", form=form, endpoint=endpoint), status


@bp.post("/events/<id:endpoint_id>/rotate")
def rotate_endpoint_secret(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    endpoints.rotate_secret(db.session, endpoint)
    db.session.commit()
    return _page(EndpointForm(formdata=None), secret_for=endpoint)


@bp.post("/events/<id:endpoint_id>/enable")
def enable_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    endpoints.enable(db.session, endpoint)
    db.session.commit()
    flash(f"The endpoint {endpoint.url} is enabled again: new events go to it.", "success")
    return redirect(url_for("settings.events"))


@bp.post("/events/<id:endpoint_id>/delete")
def delete_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    url = endpoint.url
    endpoints.delete(db.session, endpoint)
    db.session.commit()
    flash(f"The endpoint {url} is deleted, with its delivery log.", "success")
    return redirect(url_for("settings.events"))


@bp.post("/events/<id:endpoint_id>/test")
def test_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    return _queued(lambda: deliveries.send_test(db.session, endpoint), f"A test event is on its way to {endpoint.url}.",
                   endpoint.id)


@bp.post("/events/deliveries/<id:delivery_id>/replay")
def replay_delivery(delivery_id: int):
    delivery = db.session.get(EventDelivery, delivery_id) or abort(404)
    return _queued(lambda: deliveries.replay(db.session, delivery),
                   f"Delivery {delivery.id} ({delivery.type}) is sent again as a new delivery.", delivery.endpoint_id)


def _queued(action, done: str, endpoint_id: int):
    try:
        action()
    except EventsError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done + " Its result appears in the log below.", "success")
    return redirect(url_for("settings.events", endpoint_id=endpoint_id))

"""Segments' pages: the list, the builder (new and edit, with its live count and preview over htmx), delete."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.audience import builder, segments
from webapp.audience.blueprint import bp
from webapp.audience.builder import FIELD_LABELS, Builder, Choices
from webapp.audience.conditions import describe
from webapp.audience.errors import FilterError
from webapp.audience.models import Segment
from webapp.contacts.models import ATTRIBUTE_TYPES
from webapp.extensions import db


@bp.context_processor
def _builder_words() -> dict:
    return {"field_labels": FIELD_LABELS, "attribute_types": ATTRIBUTE_TYPES}


def _segment(segment_id: int) -> Segment:
    return db.session.get(Segment, segment_id) or abort(404)


@bp.get("/")
def index():
    rows = segments.all_segments(db.session)
    used = segments.used_by(db.session, [segment.id for segment in rows])
    return render_template("audience/index.html", rows=[
        (segment, " and " if segment.definition.get("match", "all") == "all" else " or ",
         describe(db.session, segment.definition), used.get(segment.id, [])) for segment in rows])


@bp.get("/<id:segment_id>/count")
def segment_count(segment_id: int):
    """A saved segment's count now, drawn into its row of the list once the list is shown (lazy: one query
    each)."""
    try:
        counted = segments.count(db.session, _segment(segment_id).definition)
    except FilterError as error:
        return render_template("audience/partials/saved_count.html", error=error.message)
    return render_template("audience/partials/saved_count.html", total=counted.total)


@bp.route("/new", methods=["GET", "POST"])
def new():
    choices = Choices.read(db.session)
    if request.method == "GET":
        return _page(builder.new(choices))
    form = builder.from_form(request.form, choices)
    if _editing_only():
        return _page(form)
    try:
        segment = segments.create(db.session, form.name, form.definition(), current_user.id)
    except FilterError as error:
        db.session.rollback()
        return _page(form, error=error, status=422)
    db.session.commit()
    flash(f"Segment “{segment.name}” saved.", "success")
    return redirect(url_for("audience.index"))


@bp.route("/<id:segment_id>/edit", methods=["GET", "POST"])
def edit(segment_id: int):
    segment = _segment(segment_id)
    choices = Choices.read(db.session)
    if request.method == "GET":
        return _page(builder.from_definition(segment.name, segment.definition, choices), segment)
    form = builder.from_form(request.form, choices)
    if _editing_only():
        return _page(form, segment)
    try:
        segments.update(db.session, segment.id, form.name, form.definition())
    except FilterError as error:
        db.session.rollback()
        return _page(form, segment, error=error, status=422)
    db.session.commit()
    flash(f"Segment “{segment.name}” saved. Campaigns already sent to it keep their recipients.", "success")
    return redirect(url_for("audience.index"))


def _editing_only() -> bool:
    """The builder's "Add condition" and "Remove" buttons post the form too (it works without JavaScript):
    they draw it again, saving nothing."""
    return "add" in request.form or "remove" in request.form


def _page(form: Builder, segment: Segment | None = None, error: FilterError | None = None, status: int = 200):
    name_error, form_errors = "", []
    if error is not None and error.field == "name":
        name_error = error.message
    elif error is not None and not form.show(error.condition, error.message):
        form_errors.append(error.message)
    summary = ([("name", f"Name: {name_error}")] if name_error else []) + [("segment-form", e) for e in form_errors]
    return render_template("audience/builder.html", form=form, segment=segment, name_error=name_error,
                           errors=summary + form.errors(), **_result(form)), status


def _result(form: Builder) -> dict:
    """The count and first contacts of the builder's filter as it stands; a bad condition shows on its row."""
    definition = form.definition()
    try:
        counted = segments.count(db.session, definition)
    except FilterError as error:
        on_a_row = form.show(error.condition, error.message)
        return {"total": None, "notes": [], "problem": error.message if not on_a_row
                else f"No count until condition {error.condition + 1} is complete: {form.rows[error.condition].error}"}
    return {"total": counted.total, "notes": counted.notes, "problem": "",
            "people": segments.preview(db.session, counted.definition),
            "columns": builder.attributes_used(counted.definition), "value_of": builder.value_of}


@bp.post("/count")
def count():
    """The live count: the whole form posted as it stands, answered with the count, the preview, and each row's
    error slot (out of band), so an error shows on its condition and goes when it is fixed."""
    form = builder.from_form(request.form, Choices.read(db.session))
    return render_template("audience/partials/count.html", form=form, oob=True, **_result(form))


@bp.get("/row")
def row():
    """One condition drawn again after its field, attribute or operator changed (nothing is saved: a GET)."""
    response = make_response(render_template("audience/partials/condition.html",
                                             row=builder.one_row(request.args, Choices.read(db.session))))
    response.headers["HX-Trigger-After-Settle"] = "segment-changed"  # the count follows the new inputs
    return response


@bp.route("/<id:segment_id>/delete", methods=["GET", "POST"])
def delete(segment_id: int):
    segment = _segment(segment_id)
    if not segments.may_delete(segment, current_user):
        abort(403, "Only an administrator or the person who made this segment can delete it.")
    used = segments.used_by(db.session, [segment.id]).get(segment.id, [])
    if request.method == "GET":
        return render_template("audience/delete.html", segment=segment, used=used)
    name = segment.name
    segments.delete(db.session, segment.id)
    db.session.commit()
    flash(f"Segment “{name}” deleted." + (" Its campaigns keep its conditions as they were." if used else ""),
          "success")
    return redirect(url_for("audience.index"))

"""The Contacts page (every contact, across lists: search, filters, sort, pages, bulk actions) and the page of the
workspace's attributes and their types."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import func, select

from webapp.audience import directory
from webapp.audience.conditions import ATTRIBUTE_OPS
from webapp.audience.errors import FilterError
from webapp.auth.services import admin_required
from webapp.contacts import export, fields, tags
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import ATTRIBUTE_TYPES, ContactList, ContactValue
from webapp.extensions import db
from webapp.fragments import answer, targets
from webapp.url_numbers import number_arg
from webapp.workspace.models import WorkspaceSettings
from webapp.workspace.zone import workspace_zone

bp = Blueprint("directory", __name__)

BULK_ACTIONS = ("add_to_list", "tag", "untag", "opt_out", "export")
# Every operator an attribute condition can take, in the builder's words (the filter says when one does not fit).
ATTRIBUTE_OP_LABELS = {op: label for ops in ATTRIBUTE_OPS.values() for op, label in ops.items()}


@bp.before_request
def _hold_settings():
    g.workspace_settings = WorkspaceSettings.get()  # as contacts.views: the `localtime` filter reads it


def _filter_args(source) -> dict[str, str]:
    return {name: source.get(name, "").strip() for name in directory.FILTER_PARAMS}


def _matching(args: dict[str, str]) -> directory.Matching:
    return directory.matching(db.session, args["q"], directory.definition_of(args),
                              g.workspace_settings.default_country)


@bp.get("/contacts/")
def index():
    args = _filter_args(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in directory.SORTS else "name"
    descending = request.args.get("order") == "desc"
    error, status, page, total, notes = None, 200, None, 0, []
    try:
        matching = _matching(args)
    except FilterError as problem:
        error, status = problem.message, 422
    else:
        page = directory.page(db.session, matching, sort, descending, after=number_arg(request.args, "after"),
                              before=number_arg(request.args, "before"))
        total, notes = directory.count(db.session, matching), matching.notes
    results = {"args": args, "filters": {name: value for name, value in args.items() if value}, "sort": sort,
               "descending": descending, "page": page, "total": total, "notes": notes, "error": error,
               "sorts": directory.SORTS, "lists": _lists()}
    if targets("contacts"):  # the search, the filters and the pager swap just the results
        return answer("audience/partials/contacts_table.html", http_status=status, **results)
    return answer("audience/contacts.html", http_status=status, tags=tags.every(db.session),
                  attributes=fields.known(db.session).values(), attribute_ops=ATTRIBUTE_OP_LABELS, **results)


def _lists() -> list:
    return db.session.execute(select(ContactList.id, ContactList.name).order_by(func.lower(ContactList.name))).all()


@bp.post("/contacts/bulk")
def bulk():
    """One action on the ticked contacts, or on all those the filter matches; nothing changes on bad input."""
    args = _filter_args(request.form)
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:
        return _back(args, "Choose what to do with the contacts.")
    if action == "opt_out" and not current_user.is_admin:
        abort(403)
    try:
        if request.form.get("scope") == "all":
            contacts = _matching(args).ids()
        else:
            contacts = directory.selected(request.form.getlist("ids"))
        if action == "export":
            response = Response(stream_with_context(export.contacts_csv(db.session, contacts, workspace_zone())),
                                mimetype="text/csv")
            response.headers["Content-Disposition"] = 'attachment; filename="contacts.csv"'
            return response
        if action == "add_to_list":
            done = directory.add_to_list(db.session, contacts, number_arg(request.form, "list_id"))
        elif action == "opt_out":
            done = directory.opt_out(db.session, contacts, request.form.get("reason", ""), current_user.email)
        else:
            change = directory.tag if action == "tag" else directory.untag
            done = change(db.session, contacts, request.form.get("tags", ""))
    except (ContactsError, FilterError) as problem:
        db.session.rollback()
        return _back(args, problem.message)
    db.session.commit()
    flash(done, "success")
    return _back(args)


def _back(args: dict[str, str], error: str | None = None):
    if error:
        flash(f"Nothing was changed: {error}", "error")
    return redirect(url_for("directory.index", **{name: value for name, value in args.items() if value}))


# --- Attributes and their types ------------------------------------------------------------------------------------

@bp.get("/contacts/attributes")
def attributes():
    counts = dict(db.session.execute(select(ContactValue.key, func.count()).group_by(ContactValue.key)).all())
    return answer("audience/attributes.html", fields=fields.known(db.session).values(), counts=counts,
                  types=ATTRIBUTE_TYPES)


@bp.post("/contacts/attributes/type")
@admin_required
def set_attribute_type():
    name = request.form.get("name", "")
    try:
        field = fields.set_type(db.session, name, request.form.get("type", ""))
    except ContactsError as problem:
        db.session.rollback()
        flash(f"Nothing was changed: {problem.message}", "error")
    else:
        db.session.commit()
        flash(f"“{field.name}” is compared as {ATTRIBUTE_TYPES[field.type].lower()} in filters; imports keep that "
              "type.", "success")
    return redirect(url_for("directory.attributes"))

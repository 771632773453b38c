"""Contacts pages: lists and their members, a contact's page, importing a file, exporting a list."""
from __future__ import annotations

from flask import (
    Blueprint, Response, abort, flash, g, redirect, render_template, request, stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from webapp.auth.services import admin_required
from webapp.contacts import export, fields, imports, optouts, services, tags
from webapp.contacts.cli import import_command
from webapp.contacts.errors import ContactsError
from webapp.contacts.forms import ColumnsForm, ListNameForm, MemberForm, OptOutForm, UploadForm
from webapp.contacts.import_jobs import enqueue_import, settle
from webapp.contacts.models import ATTRIBUTE_TYPES, Contact, ContactList, Import
from webapp.contacts.tabular import FileRejected
from webapp.extensions import db
from webapp.fragments import answer, target, targets
from webapp.inbox import contact_history
from webapp.url_numbers import LARGEST, number_arg, page_arg
from webapp.workspace.models import WorkspaceSettings
from webapp.workspace.zone import workspace_zone

bp = Blueprint("contacts", __name__)
bp.cli.add_command(import_command)  # `flask contacts import FILE --list NAME …`


@bp.before_request
def _hold_settings():
    """Keep the settings row referenced for the request: the session's identity map holds rows weakly, and
    the `localtime` filter reads the time zone from it for every timestamp a table shows."""
    g.workspace_settings = WorkspaceSettings.get()


def _list(list_id: int) -> ContactList:
    return db.session.get(ContactList, list_id) or abort(404)


def _import(import_id: int) -> Import:
    return db.session.get(Import, import_id) or abort(404)


# --- Lists ---------------------------------------------------------------------------------------

@bp.get("/lists/")
def index():
    return _index(ListNameForm(formdata=None))


def _index(form: ListNameForm, status: int = 200):
    return render_template("contacts/index.html", lists=services.list_summaries(db.session), form=form), status


@bp.post("/lists/")
def create_list():
    form = ListNameForm()
    if form.validate_on_submit():
        try:
            created = services.create_list(db.session, form.name.data, current_user.id)
        except ContactsError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(f"List “{created.name}” created. Import a file into it, or add people one by one.", "success")
            return redirect(url_for("contacts.show_list", list_id=created.id))
    return _index(form, 422)


@bp.post("/lists/example")
def try_example():
    """The example file, imported into a new list through the same steps as an upload."""
    record = imports.begin_example(db.session, current_user.id)
    db.session.commit()
    enqueue_import(record.id)
    return redirect(url_for("contacts.import_page", import_id=record.id))


@bp.get("/lists/<id:list_id>")
def show_list(list_id: int):
    return _show_list(_list(list_id), MemberForm(formdata=None))


def _show_list(contact_list: ContactList, member_form: MemberForm, status: int = 200):
    search = request.args.get("q", "")
    page = services.members_page(db.session, contact_list.id, search, page_arg(request.args))
    fragment = targets("members")  # the search box and the pager swap just the members
    template = "contacts/partials/members.html" if fragment else "contacts/list.html"
    members, opted_out = services.list_counts(db.session, contact_list.id)
    return answer(template, http_status=status, contact_list=contact_list, page=page, search=search, member_form=member_form,
                  members=members, opted_out=opted_out, imports=imports.recent(db.session, contact_list.id))


@bp.route("/lists/<id:list_id>/rename", methods=["GET", "POST"])
def rename_list(list_id: int):
    contact_list = _list(list_id)
    form = ListNameForm(data={"name": contact_list.name})
    if form.validate_on_submit():
        try:
            services.rename_list(db.session, contact_list, form.name.data)
        except ContactsError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(f"List renamed to “{contact_list.name}”.", "success")
            return redirect(url_for("contacts.show_list", list_id=list_id))
    status = 422 if form.errors else 200
    return render_template("contacts/rename.html", contact_list=_list(list_id), form=form), status


@bp.route("/lists/<id:list_id>/delete", methods=["GET", "POST"])
def delete_list(list_id: int):
    contact_list = _list(list_id)
    if request.method == "GET":
        members, _ = services.list_counts(db.session, list_id)
        return render_template("contacts/delete.html", contact_list=contact_list, members=members)
    name = contact_list.name
    services.delete_list(db.session, contact_list)
    db.session.commit()
    flash(f"List “{name}” deleted. Its contacts stay in your other lists, and campaigns already sent keep "
          "their recipients.", "success")
    return redirect(url_for("contacts.index"))


@bp.post("/lists/<id:list_id>/members")
def add_member(list_id: int):
    contact_list = _list(list_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            contact, added = services.add_member(db.session, contact_list, form.phone.data, form.name.data,
                                                 WorkspaceSettings.get().default_country)
        except ContactsError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(f"{contact.phone} {'added to' if added else 'was already in'} “{contact_list.name}”.",
                  "success" if added else "info")
            return redirect(url_for("contacts.show_list", list_id=list_id))
    return _show_list(contact_list, form, 422)


@bp.post("/lists/<id:list_id>/members/<id:contact_id>/remove")
def remove_member(list_id: int, contact_id: int):
    contact_list = _list(list_id)
    contact = db.session.get(Contact, contact_id) or abort(404)
    if services.remove_member(db.session, list_id, contact_id):
        flash(f"{contact.phone} removed from “{contact_list.name}”.", "success")
    db.session.commit()
    # Back to the page of members the person was on.
    return redirect(url_for("contacts.show_list", list_id=list_id, q=request.form.get("q") or None,
                            page=request.form.get("page", type=int)))


@bp.get("/lists/<id:list_id>/export.csv")
def export_list(list_id: int):
    contact_list = _list(list_id)
    return _csv(export.list_csv(db.session, list_id, workspace_zone()), f"list-{contact_list.id}.csv")


def _csv(lines, filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Contacts ------------------------------------------------------------------------------------

@bp.get("/contacts/<id:contact_id>")
def contact(contact_id: int):
    """A contact's page; the Older links of its two histories swap just their section."""
    found = _contact(contact_id)
    sent = contact_history.campaign_messages(db.session, found, number_arg(request.args, "sent_before", most=LARGEST))
    heard = contact_history.messages_from(db.session, found, number_arg(request.args, "heard_before", most=LARGEST))
    fragments = {"contact-campaigns": "contacts/partials/contact_campaigns.html",
                 "contact-messages": "contacts/partials/contact_messages.html"}
    known = fields.known(db.session)
    return answer(fragments.get(target(), "contacts/contact.html"),
                  lists=services.lists_of(db.session, found), sent=sent, heard=heard,
                  conversation=contact_history.conversation_of(db.session, found),
                  attributes=[(name, value, known.get(fields.key(name))) for name, value in
                              (found.attributes or {}).items()],
                  known=known.values(), types=ATTRIBUTE_TYPES, optout_history=optouts.history(db.session, found.id),
                  form=OptOutForm(formdata=None), **_tag_parts(found))


def _contact(contact_id: int) -> Contact:
    return db.session.get(Contact, contact_id) or abort(404)


def _tag_parts(found: Contact, error: str = "") -> dict:
    return {"contact": found, "tags": tags.of_contact(db.session, found.id), "tag_error": error,
            "all_tags": tags.every(db.session)}


@bp.post("/contacts/<id:contact_id>/tags")
def tag_contact(contact_id: int):
    """Add tags by hand (staff and admins); htmx swaps the tags section, a plain form comes back to the page."""
    return _change_tags(_contact(contact_id), tags.add, request.form.get("tags", ""))


@bp.post("/contacts/<id:contact_id>/tags/remove")
def untag_contact(contact_id: int):
    return _change_tags(_contact(contact_id), tags.remove, request.form.get("tag", ""))


def _change_tags(found: Contact, change, text: str):
    error = ""
    try:
        names = tags.names(text)
        if not names:
            raise ContactsError("Write a tag (several: separated by commas).", field="tags")
        change(db.session, select(Contact.id).where(Contact.id == found.id), names)
    except ContactsError as problem:
        db.session.rollback()
        error = problem.message
    else:
        db.session.commit()
    if targets("contact-tags"):
        return answer("contacts/partials/contact_tags.html", http_status=422 if error else 200,
                      **_tag_parts(found, error))
    flash(error or "Tags saved.", "error" if error else "success")
    return redirect(url_for("contacts.contact", contact_id=found.id))


@bp.post("/contacts/<id:contact_id>/attributes")
@admin_required
def set_attribute(contact_id: int):
    found = _contact(contact_id)
    try:
        name = services.set_attribute(db.session, found, request.form.get("name", ""), request.form.get("value", ""))
    except ContactsError as problem:
        db.session.rollback()
        flash(f"Nothing was changed: {problem.message}", "error")
    else:
        db.session.commit()
        flash(f"“{name}” saved." if request.form.get("value", "").strip() else f"“{name}” removed.", "success")
    return redirect(url_for("contacts.contact", contact_id=contact_id))


@bp.post("/contacts/<id:contact_id>/opt-out")
@admin_required
def opt_out(contact_id: int):
    found = db.session.get(Contact, contact_id) or abort(404)
    form = OptOutForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "The opt-out was not saved; please try again.", "error")
        return redirect(url_for("contacts.contact", contact_id=contact_id))
    services.set_opted_out(db.session, found, True, form.reason.data, by=current_user.email)
    db.session.commit()
    flash(f"{found.phone} is opted out: no marketing campaign will message it.", "success")
    return redirect(url_for("contacts.contact", contact_id=contact_id))


@bp.post("/contacts/<id:contact_id>/opt-in")
@admin_required
def opt_in(contact_id: int):
    found = db.session.get(Contact, contact_id) or abort(404)
    # The CSRF check already ran, for every POST.
    services.set_opted_out(db.session, found, False, by=current_user.email)
    db.session.commit()
    flash(f"{found.phone} is opted back in.", "success")
    return redirect(url_for("contacts.contact", contact_id=contact_id))


# --- Importing -----------------------------------------------------------------------------------

@bp.route("/imports/new", methods=["GET", "POST"])
def upload():
    form = UploadForm(data={"list_id": number_arg(request.args, "list_id")} if request.method == "GET" else None)
    if form.validate_on_submit():
        path = imports.save_upload(form.file.data)
        try:
            record, _ = imports.begin_import(
                db.session, path, form.file.data.filename, list_id=form.list_id.data, new_list=form.new_list.data,
                country=form.country.data, update_existing=form.existing.data == "update", user_id=current_user.id)
        except (ContactsError, FileRejected) as error:
            db.session.rollback()
            imports.discard_upload(path)
            form.show(error if isinstance(error, ContactsError) else ContactsError(str(error), field="file"))
        else:
            db.session.commit()
            return redirect(url_for("contacts.columns", import_id=record.id))
    return render_template("contacts/upload.html", form=form), 422 if form.errors else 200


@bp.route("/imports/<id:import_id>/columns", methods=["GET", "POST"])
def columns(import_id: int):
    record = _import(import_id)
    if record.status != "uploaded":
        return redirect(url_for("contacts.import_page", import_id=import_id))
    try:
        preview = imports.preview_of(record)
    except (ContactsError, FileRejected) as error:
        flash(str(error), "error")
        return redirect(url_for("contacts.upload"))
    form = ColumnsForm(preview)
    if form.validate_on_submit():
        try:
            imports.start_import(db.session, record, form.columns(), preview.headers)
        except ContactsError as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            enqueue_import(record.id)
            return redirect(url_for("contacts.import_page", import_id=import_id))
    return render_template("contacts/columns.html", record=record, preview=preview, form=form,
                           options=record.options), 422 if form.errors else 200


@bp.get("/imports/<id:import_id>")
def import_page(import_id: int):
    record = _import(import_id)
    if record.status == "uploaded":
        return redirect(url_for("contacts.columns", import_id=import_id))
    return render_template("contacts/import.html", **_import_parts(record))


@bp.get("/imports/<id:import_id>/progress")
def import_progress(import_id: int):
    """The polled fragment: progress while the import runs, then its result (which polls no more)."""
    record = _import(import_id)
    if record.status in ("queued", "running"):
        settle(db.session, record.id, record.status)
        db.session.refresh(record)
    return render_template("contacts/partials/import_progress.html", **_import_parts(record))


def _import_parts(record: Import) -> dict:
    done = record.status == "done"
    return {"record": record, "progress": imports.progress(record), "report": imports.report(db.session, record),
            "examples": list(imports.rejections(db.session, record.id, limit=10)) if done else [],
            "live": record.status in ("queued", "running")}


@bp.get("/imports/<id:import_id>/rejections.csv")
def rejections(import_id: int):
    record = _import(import_id)
    return _csv(imports.rejections_csv(db.session, record.id), f"import-{record.id}-rejected-rows.csv")

"""The Inbox: conversations newest first, a conversation with its composer, team actions, customers' files and
the quick answers' settings. Views read the form, call a service, and render or redirect."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from webapp.auth.services import admin_required
from webapp.campaigns import presenters
from webapp.campaigns.forms import payloads_from, variables_from
from webapp.campaigns.variables import SOURCES
from webapp.extensions import db
from webapp.fragments import answer, answer_nothing, targets
from webapp.contacts.models import ContactList
from webapp.inbox import answers, conversations, list_messages, media, quick_answers, timeline, window
from webapp.inbox.errors import InboxError
from webapp.inbox.forms import AnswerForm, AssignForm, QuickAnswerForm, TemplateAnswerForm
from webapp.inbox.models import Conversation, InboundMedia, QuickAnswer
from webapp.queues import enqueue, on_commit
from webapp.timestamps import utcnow
from webapp.url_numbers import number_arg
from webapp.webhooks.replies import campaign_choices
from webapp.whatsapp_text import formatted

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
POLL_SECONDS = 3  # a conversation open in a visible tab asks for new messages this often
LIST_POLL_SECONDS = 5  # the list's first page, in a visible tab, asks whether anything changed this often


@bp.app_template_filter("whatsapp")
def _whatsapp(text):
    return formatted(text or "")


def _conversation(conversation_id: int) -> Conversation:
    return db.session.get(Conversation, conversation_id) or abort(404)


@bp.get("/")
def index():
    show = request.args.get("show") if request.args.get("show") in conversations.SHOWS else "open"
    campaign_id = number_arg(request.args, "campaign")
    search = request.args.get("q", "")[:100]
    page = conversations.conversation_page(db.session, current_user.id, show=show, campaign_id=campaign_id,
                                           search=search, before=request.args.get("before"))
    fragment = targets("conversation-list")
    badge = conversations.unread_badge(db.session)
    seen = conversations.fingerprint(page, badge)
    if fragment and request.args.get("seen") == seen:
        return answer_nothing()  # the first page polls (every LIST_POLL_SECONDS): unchanged, nothing to swap
    return answer("inbox/partials/conversation_list.html" if fragment else "inbox/index.html", page=page, show=show,
                  shows=conversations.SHOWS, campaign_id=campaign_id, search=search, seen=seen,
                  poll=LIST_POLL_SECONDS, paged=bool(request.args.get("before")),
                  oob_badge=badge if fragment else None,  # a whole page has the badge in its navigation
                  campaigns=[] if fragment else campaign_choices(db.session))


@bp.get("/<id:conversation_id>")
def show(conversation_id: int):
    conversation = _conversation(conversation_id)
    return _page(conversation, AnswerForm())


@bp.get("/<id:conversation_id>/messages")
def messages(conversation_id: int):
    """The polled fragment: the newest messages, read as they show."""
    conversation = _conversation(conversation_id)
    conversations.mark_read(db.session, conversation)
    db.session.commit()
    return answer("inbox/partials/messages.html", conversation=conversation,
                  timeline=timeline.timeline(db.session, conversation), poll=POLL_SECONDS, paged=False)


def _template_composer(conversation: Conversation, form: TemplateAnswerForm, problems: dict | None = None) -> dict:
    """Outside the window: the number's approved templates and the chosen one's variables, as compose shows them."""
    sender = answers.sender_of(db.session, conversation)
    templates = presenters.approved_templates(sender.id if sender else None)
    form.template.choices = [("", "Choose a template…")] + [(t.id, f"{t.name} ({t.language})") for t in templates]
    form.chosen_template = next((t for t in templates if t.id == form.template.data), None)
    mapping, payloads = variables_from(request.values), payloads_from(request.values)
    return {"template_form": form, "templates": templates, "sources": SOURCES,
            "slots": presenters.slot_rows(form.chosen_template, mapping, problems or {}),
            "buttons": presenters.button_rows(form.chosen_template, payloads, problems or {}),
            "media": presenters.media_kind(form.chosen_template)}


def _page(conversation: Conversation, form: AnswerForm, status: int = 200, template_form=None,
          template_error: InboxError | None = None):
    older = timeline.Cursor.read(request.args.get("before"))
    conversations.mark_read(db.session, conversation)
    db.session.commit()
    now = utcnow()
    window_open = window.is_open(conversation.last_customer_message_at, now)
    composer = {} if window_open or conversation.contact.opted_out else _template_composer(
        conversation, template_form or TemplateAnswerForm(), template_error.problems if template_error else None)
    assign_form = AssignForm(assigned_to=conversation.assigned_to_id)
    assign_form.assigned_to.choices = [("", "Nobody")] + conversations.staff_choices(db.session)
    return render_template(
        "inbox/show.html", conversation=conversation, form=form, assign_form=assign_form,
        timeline=timeline.timeline(db.session, conversation, str(older) if older else None),
        paged=bool(older), poll=POLL_SECONDS, window_open=window_open,
        window_left=window.describe_remaining(window.remaining(conversation.last_customer_message_at, now)),
        quick_answers=quick_answers.all_quick_answers(db.session), max_text=answers.MAX_TEXT,
        template_error=template_error, **composer), status


@bp.post("/<id:conversation_id>/answer")
def send(conversation_id: int):
    conversation = _conversation(conversation_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(conversation, form, 400)
    upload = form.file.data
    try:
        if upload and upload.filename:
            attached = media.check_and_store(upload.filename, upload.read(media.LARGEST + 1))
            answers.answer_media(db.session, conversation, attached.kind, attached.stored_file, attached.name,
                                 attached.mime, form.text.data or "", current_user.id)
        else:
            answers.answer_text(db.session, conversation, form.text.data or "", current_user.id)
    except InboxError as exc:
        db.session.rollback()
        form[exc.field if exc.field in ("text", "file") else "text"].errors.append(exc.message)
        return _page(conversation, form, 422)
    db.session.commit()
    return redirect(url_for("inbox.show", conversation_id=conversation.id))


@bp.post("/<id:conversation_id>/template")
def send_template(conversation_id: int):
    """Outside the window: an approved template for this contact, through the same answer job."""
    conversation = _conversation(conversation_id)
    form = TemplateAnswerForm()
    if not form.validate_on_submit():
        return _page(conversation, AnswerForm(formdata=None), 400, form)
    chosen = _template_composer(conversation, form)["template_form"].chosen_template
    try:
        answers.answer_template(db.session, conversation, chosen, variables_from(request.form),
                                form.header_media_url.data or "", payloads_from(request.form), current_user.id)
    except InboxError as exc:
        db.session.rollback()
        return _page(conversation, AnswerForm(formdata=None), 422, form, exc)
    db.session.commit()
    flash("Template queued: its status follows below.", "success")
    return redirect(url_for("inbox.show", conversation_id=conversation.id))


@bp.get("/<id:conversation_id>/template-fields")
def template_fields(conversation_id: int):
    """The chosen template's variables (htmx, when the template changes; nothing changes, so no CSRF)."""
    form = TemplateAnswerForm(formdata=request.args, meta={"csrf": False})
    return answer("campaigns/partials/variables.html",
                  **{**_template_composer(_conversation(conversation_id), form), "form": form})


@bp.post("/preview")
def preview():
    """The composer's text as WhatsApp will show it (htmx, as staff type)."""
    return render_template("inbox/partials/preview.html", text=request.form.get("text", "")[:answers.MAX_TEXT])


@bp.post("/<id:conversation_id>/done")
def done(conversation_id: int):
    conversations.mark_done(_conversation(conversation_id))
    db.session.commit()
    flash("Marked done. A new message from the customer reopens it.", "success")
    return redirect(url_for("inbox.index"))


@bp.post("/<id:conversation_id>/reopen")
def reopen(conversation_id: int):
    conversations.reopen(_conversation(conversation_id))
    db.session.commit()
    return redirect(url_for("inbox.show", conversation_id=conversation_id))


@bp.post("/<id:conversation_id>/assign")
def assign(conversation_id: int):
    conversation = _conversation(conversation_id)
    form = AssignForm()
    form.assigned_to.choices = []
    if form.validate_on_submit():
        try:
            conversations.assign(db.session, conversation, form.assigned_to.data)
        except InboxError as exc:
            flash(exc.message, "error")
            return redirect(url_for("inbox.show", conversation_id=conversation_id))
        db.session.commit()
        who = conversation.assigned_to
        flash(f"Assigned to {who.name or who.email}." if who else "Assigned to nobody.", "success")
    return redirect(url_for("inbox.show", conversation_id=conversation_id))


@bp.get("/files/<id:inbound_id>")
def file(inbound_id: int):
    """A customer's file, to staff only (the login gate stands before every page); never from a guessable path."""
    stored = db.session.get(InboundMedia, inbound_id)
    if stored is None or stored.status != "stored":
        abort(404)
    try:
        path = media.stored_path(stored.stored_file)
    except FileNotFoundError:
        abort(404)
    inline = stored.mime_type in ("image/jpeg", "image/png", "image/webp")
    return send_file(path, mimetype=stored.mime_type or "application/octet-stream", as_attachment=not inline,
                     download_name=stored.filename or f"file-{inbound_id}", max_age=0)


@bp.post("/files/<id:inbound_id>/retry")
def retry(inbound_id: int):
    stored = db.session.get(InboundMedia, inbound_id) or abort(404)
    try:
        media.retry(stored)
    except InboxError as exc:
        flash(exc.message, "error")
    else:
        on_commit(db.session, lambda: enqueue(conversations.DOWNLOAD_JOB, inbound_id, queue_name="default"))
        db.session.commit()
        flash("Downloading the file again.", "success")
    return redirect(request.referrer or url_for("inbox.index"))


# --- a free-form message to a list -----------------------------------------------------------------

@bp.route("/lists/<id:list_id>/message", methods=["GET", "POST"])
def list_message(list_id: int):
    """Message a list's members who wrote in the last 24 hours (the count shown first); the others are skipped."""
    contact_list = db.session.get(ContactList, list_id) or abort(404)
    form = AnswerForm()
    status = 200
    if form.validate_on_submit():
        try:
            message = _list_message(form)
            outcomes = list_messages.send_to_list(db.session, list_id, message, current_user.id, utcnow())
        except InboxError as exc:
            db.session.rollback()
            form[exc.field if exc.field in ("text", "file") else "text"].errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            queued = sum(1 for outcome in outcomes if outcome.message_id)
            flash(f"Sending to {queued:,} contact{'' if queued == 1 else 's'}; {len(outcomes) - queued:,} skipped "
                  f"({list_messages.OUTSIDE}, or opted out). Each answer's status shows in its conversation.",
                  "success")
            return redirect(url_for("contacts.show_list", list_id=list_id))
    elif request.method == "POST":
        status = 400
    reach = list_messages.reach(db.session, list_id, utcnow())
    page = "inbox/partials/list_message.html" if targets("list-message") else "inbox/list_message.html"
    return answer(page, status, contact_list=contact_list, reach=reach, form=form)


def _list_message(form: AnswerForm) -> list_messages.ListMessage:
    upload, text = form.file.data, form.text.data or ""
    if upload and upload.filename:
        attached = media.check_and_store(upload.filename, upload.read(media.LARGEST + 1))
        return list_messages.ListMessage(attached.kind, text, attached.stored_file, attached.name, attached.mime)
    return list_messages.ListMessage("text", text)


# --- quick answers (admins) -----------------------------------------------------------------------

@bp.route("/quick-answers", methods=["GET", "POST"])
@admin_required
def quick_answer_settings():
    form = QuickAnswerForm()
    status = 200
    if form.validate_on_submit():
        try:
            quick_answers.save(db.session, form.title.data or "", form.text.data or "")
        except InboxError as exc:
            db.session.rollback()
            form[exc.field or "text"].errors.append(exc.message)
            status = 422
        else:
            db.session.commit()
            flash("Quick answer saved.", "success")
            return redirect(url_for("inbox.quick_answer_settings"))
    return render_template("inbox/quick_answers.html", form=form,
                           quick_answers=quick_answers.all_quick_answers(db.session)), status


@bp.post("/quick-answers/<id:quick_answer_id>/delete")
@admin_required
def delete_quick_answer(quick_answer_id: int):
    quick_answers.delete(db.session, db.session.get(QuickAnswer, quick_answer_id) or abort(404))
    db.session.commit()
    flash("Quick answer deleted.", "success")
    return redirect(url_for("inbox.quick_answer_settings"))

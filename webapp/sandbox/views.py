"""The Sandbox phone: what each test customer received, as they would read it, and a way to answer as them
(a text, a button tap, a photo or a document)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from webapp.sandbox.phone import (SandboxUnavailable, conversation, customer_sends_file, customer_taps,
                                  customer_writes, media_file, recent_numbers)

# Files the browser may show inline; anything else (a customer's document may be HTML) is only downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@bp.before_request
def _only_with_the_sandbox():
    """Without the sandbox (SANDBOX_ENABLED=0, as in production) its pages are not there at all."""
    if not current_app.config["SANDBOX_ENABLED"]:
        abort(404)


@bp.get("/phone")
def phone():
    number = request.args.get("number", "").strip()
    try:
        numbers = recent_numbers()
        bubbles = conversation(number) if number else []
    except SandboxUnavailable as exc:
        return render_template("sandbox/phone.html", error=str(exc), numbers=[], number=number, bubbles=[]), 503
    return render_template("sandbox/phone.html", numbers=numbers, number=number, bubbles=bubbles, error=None)


@bp.post("/phone/reply")
def reply():
    number = request.form.get("number", "").strip()
    text = request.form.get("text", "").strip()
    if not number or not text:
        flash("Write something for the customer to send.", "error")
    else:
        try:
            customer_writes(number, text[:4096])
            flash(f"{number} sent “{text[:80]}”. It reaches the app as a webhook in a moment.", "success")
        except (SandboxUnavailable, ValueError) as exc:
            flash(str(exc), "error")
    return redirect(url_for("sandbox.phone", number=number))


@bp.post("/phone/tap")
def tap():
    number = request.form.get("number", "").strip()
    try:
        label = customer_taps(number, request.form.get("wamid", ""), request.form.get("button", -1, type=int))
        flash(f"{number} tapped “{label}”. It reaches the app as a webhook in a moment.", "success")
    except (SandboxUnavailable, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("sandbox.phone", number=number))


@bp.post("/phone/file")
def send_file():
    number = request.form.get("number", "").strip()
    upload = request.files.get("file")
    if not number or upload is None or not upload.filename:
        flash("Choose a photo or a document for the customer to send.", "error")
        return redirect(url_for("sandbox.phone", number=number))
    caption = request.form.get("caption", "").strip()[:1024]
    try:
        sent = customer_sends_file(number, upload.filename[:240], upload.mimetype or "", upload.read(), caption)
        flash(f"{number} sent the {sent} “{upload.filename[:80]}”. It reaches the app as a webhook in a moment.",
              "success")
    except (SandboxUnavailable, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("sandbox.phone", number=number))


@bp.get("/phone/media/<int:media_id>")
def media(media_id: int):
    """A file the sandbox holds, for the phone page: photos inline, anything else as a download."""
    try:
        answer, filename = media_file(str(media_id))
    except SandboxUnavailable:
        abort(503)
    except LookupError:
        abort(404)
    mime_type = answer.headers.get("Content-Type", "").split(";")[0]
    inline = mime_type in INLINE_TYPES
    response = Response(answer.iter_content(64 * 1024), mimetype=mime_type if inline else "application/octet-stream")
    response.call_on_close(answer.close)
    if inline:
        response.headers["Content-Disposition"] = "inline"
    else:
        response.headers.set("Content-Disposition", "attachment", filename=filename or f"file-{media_id}")
    return response

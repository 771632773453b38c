"""Staff answers: the composer's rules, then a send as careful as a campaign's.

An answer is a row first (`pending`), written with the conversation in the view's transaction; a job on the
sending queue then claims it (`sending`, in a commit), waits for a slot of the sender's rate limiter, makes the
one request, and records what came back. A lost answer makes the row `unknown`: never re-sent blindly. Meta's
statuses move it on by wamid (`apply_answer_statuses`, which webhook ingestion calls), through the same state
machine as recipient rows (webapp/campaigns/lifecycle.py).

Free-form messages go only inside the customer's 24-hour window (window.py): refused at the composer with the
text kept, and again by the job if the window closed while the answer waited. Outside the window only an
approved template goes (`answer_template`, its variables mapped as compose maps a campaign's), through the same
job; an opted-out contact gets no template, only the window's answer to their own message.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.campaigns import variables
from webapp.campaigns.lifecycle import move, note_error, report
from webapp.campaigns.outcomes import RESPONSES, Retries
from webapp.cloudapi import CloudAPI, CloudAPIError, SendResult, render_template
from webapp.inbox import window
from webapp.inbox.conversations import preview
from webapp.inbox.errors import InboxError
from webapp.inbox.media import stored_path
from webapp.inbox.models import Answer, Conversation
from webapp.meta_errors import Action, MetaError
from webapp.queues import enqueue, on_commit, queue, redis_client
from webapp.ratelimit import RateLimiter
from webapp.senders.models import Sender, Template
from webapp.senders.services import client_for
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

MAX_TEXT = 4096  # Meta's limit for a text message's body
MEDIA_ANSWERS = ("image", "video", "audio", "document")
SEND_JOB = "jobs.inbox.send_answer"
CALLBACK = re.compile(r"a:([0-9]{1,18})")  # what an answer carries in biz_opaque_callback_data
STALE_CLAIM_SECONDS = 120  # a claim older than this with no answer recorded: its worker died mid-request


# --- the composer's rules ------------------------------------------------------------------------

def check_free_form(conversation: Conversation, now: datetime) -> None:
    """Raise unless a free-form message may go now: inside the window (whatever the contact's opt-out)."""
    if not window.is_open(conversation.last_customer_message_at, now):
        raise InboxError("The 24-hour window closed: the customer last wrote more than 24 hours ago, so WhatsApp "
                         "only lets an approved template reach them now. Your text is kept below.",
                         field="text", code="window_closed")


def check_text(text: str) -> None:
    if not text.strip():
        raise InboxError("Write a message first: an empty message can't be sent.", field="text")
    if len(text) > MAX_TEXT:
        raise InboxError(f"WhatsApp takes at most {MAX_TEXT:,} characters in a message; this one has "
                         f"{len(text):,}.", field="text")


def answer_text(session: Session, conversation: Conversation, text: str, user_id: int | None,
                now: datetime | None = None) -> Answer:
    """Queue a text answer (sent by a job); raise InboxError with a reason for an empty, too long or late one."""
    now = now or utcnow()
    check_text(text)
    check_free_form(conversation, now)
    return _queue(session, conversation, Answer(kind="text", text=text), user_id, now)


def answer_media(session: Session, conversation: Conversation, kind: str, stored_file: str, name: str, mime: str,
                 caption: str, user_id: int | None, now: datetime | None = None) -> Answer:
    """Queue an image, video, audio or document answer whose file the caller checked and stored (media.py)."""
    now = now or utcnow()
    check_free_form(conversation, now)
    answer = Answer(kind=kind, text=caption[:1024], media_file=stored_file, media_name=name[:255], media_mime=mime)
    return _queue(session, conversation, answer, user_id, now)


def answer_media_ref(session: Session, conversation: Conversation, kind: str, media_ref: str, caption: str,
                     filename: str, user_id: int | None, now: datetime | None = None) -> Answer:
    """Queue a media answer whose file Meta already has (a media id) or fetches itself (an https link)."""
    now = now or utcnow()
    check_media_ref(kind, media_ref)
    check_free_form(conversation, now)
    answer = Answer(kind=kind, text=caption[:1024], media_ref=media_ref, media_name=filename[:255])
    return _queue(session, conversation, answer, user_id, now)


def check_media_ref(kind: str, media_ref: str) -> None:
    """A media answer's kind and its media id or https link, before any row is written."""
    if kind not in MEDIA_ANSWERS:
        raise InboxError(f"A message is text, a template or one of {', '.join(MEDIA_ANSWERS)}.", field="type")
    if not media_ref or len(media_ref) > 1024 or media_ref.startswith("http://"):
        raise InboxError("Give the media as its id from Meta's media upload, or an https:// link Meta can fetch "
                         "(at most 1,024 characters).", field="link", code="bad_media")


def reply_automatically(session: Session, conversation: Conversation, text: str, now: datetime) -> Answer | None:
    """Queue the workspace's reply to an opt-out or opt-in keyword, sent as staff answers are; None when it can't
    go (the window closed: a message Meta delivered a day late; no sender number yet)."""
    try:
        check_free_form(conversation, now)
        return _queue(session, conversation, Answer(kind="text", text=text[:MAX_TEXT], automatic=True), None, now)
    except InboxError:
        return None


OPTED_OUT = ("This customer opted out, so no template may reach them; only an answer to their own message, "
             "within 24 hours of it.")


def answer_template(session: Session, conversation: Conversation, template: Template | None, mapping: dict,
                    header_media_url: str, button_payloads: dict, user_id: int | None,
                    now: datetime | None = None) -> Answer:
    """Queue an approved template for this one contact, its variables mapped as compose maps a campaign's
    (webapp/campaigns/variables.py); the only way to reach a customer outside the window, never an opted-out one."""
    now = now or utcnow()
    contact = conversation.contact
    if contact.opted_out:
        raise InboxError(OPTED_OUT, field="template", code="opted_out")
    sender = sender_of(session, conversation)
    if template is None or not template.approved or sender is None or template.waba_id != sender.waba_id:
        raise InboxError("Choose one of the number's approved templates.", field="template")
    components, parameter_format = template.components, template.parameter_format
    problems = {**variables.check_mapping(components, parameter_format, mapping, header_media_url),
                **variables.payload_problems(components, button_payloads)}
    if problems:
        raise InboxError("Fill in the template's variables.", field="template", problems=problems)
    resolved = variables.resolve(components, parameter_format, mapping, header_media_url, contact.name,
                                 contact.attributes, button_payloads)
    if resolved.missing:
        raise InboxError(f"This customer has no value for {', '.join(resolved.missing)}: give a fallback or a "
                         "text.", field="template")
    if resolved.too_long:
        raise InboxError(f"Too long: {resolved.too_long} (Meta's error 132005).", field="template")
    answer = Answer(kind="template", text=render_template(components, resolved.params), template_name=template.name,
                    template_language=template.language, params=resolved.params)
    return _queue(session, conversation, answer, user_id, now)


def sender_of(session: Session, conversation: Conversation) -> Sender | None:
    """The number a conversation's answers go from: the one the customer wrote to, else the first."""
    if conversation.sender_id:
        return session.get(Sender, conversation.sender_id)
    return session.scalar(select(Sender).order_by(Sender.id).limit(1))


def _queue(session: Session, conversation: Conversation, answer: Answer, user_id: int | None,
           now: datetime) -> Answer:
    stage(session, conversation, answer, sender_of(session, conversation), user_id, now)
    conversation.needs_answer = False
    session.flush()
    answer_id = answer.id
    on_commit(session, lambda: enqueue(SEND_JOB, answer_id, queue_name="dispatch"))
    return answer


def stage(session: Session, conversation: Conversation, answer: Answer, sender: Sender | None, user_id: int | None,
          now: datetime) -> Answer:
    """Write a `pending` answer into its conversation (the caller flushes, and enqueues its send on commit)."""
    for name, value in pending(sender.id if sender else None, user_id, now).items():
        setattr(answer, name, value)
    answer.conversation_id, answer.phone = conversation.id, conversation.contact.phone
    session.add(answer)
    conversation.last_message_at = max(conversation.last_message_at, now)
    conversation.last_text = last_text(answer.text, answer.media_name, answer.kind)
    return answer


def pending(sender_id: int | None, user_id: int | None, now: datetime) -> dict:
    """The fields of an answer waiting for its send, besides its conversation and number (list_messages.py writes
    many at once with them)."""
    if sender_id is None:
        raise InboxError("Add a sender number in Settings first: answers go from it.", code="conflict")
    return {"sender_id": sender_id, "sent_by_id": user_id, "created_at": now, "status": "pending"}


def last_text(text: str, media_name: str, kind: str) -> str:
    """What the conversation list shows of an answer."""
    return preview(text or media_name, kind)


# --- the send: claim (commit), deliver (no database), record (commit) ----------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    phone: str
    kind: str
    text: str
    media_path: Path | None
    media_name: str
    media_mime: str
    media_ref: str  # a Meta media id or an https link, instead of a stored file
    template: tuple[str, str, dict | None]  # name, language, parameter snapshot (a template answer's)
    phone_number_id: str
    throughput: int
    client: CloudAPI
    window_open: bool
    attempts: int = 1  # this one included


@dataclass(frozen=True)
class Delivery:
    result: SendResult | None = None
    error: CloudAPIError | None = None


def claim(session: Session, answer_id: int, now: datetime) -> Claimed | None:
    """Take a pending answer for sending, in the caller's transaction (commit before delivering); None if it is
    not pending (another run of the job has it, or had it)."""
    token = uuid.uuid4().hex
    taken = session.execute(update(Answer).where(Answer.id == answer_id, Answer.status == "pending")
                            .values(status="sending", claim_token=token, sending_at=now,
                                    attempts=Answer.attempts + 1)
                            .execution_options(synchronize_session=False)).rowcount
    if not taken:
        return None
    answer = session.get(Answer, answer_id, populate_existing=True)
    conversation = session.get(Conversation, answer.conversation_id)
    sender = session.get(Sender, answer.sender_id) if answer.sender_id else None
    if sender is None:
        _fail(answer, MetaError(None, "The sender number was removed before the answer went", ""), now)
        return None
    if answer.kind == "template" and conversation.contact.opted_out:
        _fail(answer, MetaError(None, "The customer opted out before the template went", ""), now)
        return None
    return Claimed(answer.id, answer.phone, answer.kind, answer.text,
                   stored_path(answer.media_file) if answer.media_file else None, answer.media_name, answer.media_mime,
                   answer.media_ref, (answer.template_name, answer.template_language, answer.params),
                   sender.phone_number_id, sender.throughput, client_for(sender),
                   window.is_open(conversation.last_customer_message_at, now), answer.attempts)


def deliver(claimed: Claimed) -> Delivery:
    """Wait for a slot of the number's limiter (shared with its campaigns), then make the one request."""
    if not claimed.window_open and claimed.kind != "template":
        return Delivery(error=CloudAPIError(window.CLOSED.title, code=window.CLOSED.code,
                                            details=window.CLOSED.detail, action=Action.ROW_FAIL))
    limiter = RateLimiter(redis_client(), claimed.phone_number_id, claimed.throughput,
                          current_app.config["RATE_MARGIN_MS"])
    while not (grant := limiter.acquire(1)).granted:
        time.sleep(min(max(grant.wait_seconds, 0.01), 0.25))  # the limiter says when its next slot frees
    client, number, callback = claimed.client, claimed.phone_number_id, f"a:{claimed.id}"
    try:
        if claimed.kind == "text":
            return Delivery(client.send_text(number, claimed.phone, claimed.text, callback_data=callback))
        if claimed.kind == "template":
            return Delivery(client.send_template(number, claimed.phone, *claimed.template, callback_data=callback))
        link = claimed.media_ref if claimed.media_ref.startswith("https://") else None
        media_id = None if link else claimed.media_ref or client.upload_media(
            number, claimed.media_path.read_bytes(), claimed.media_mime, claimed.media_name)
        return Delivery(client.send_media(number, claimed.phone, claimed.kind, media_id=media_id, link=link,
                                          caption=claimed.text, filename=claimed.media_name or None,
                                          callback_data=callback))
    except CloudAPIError as exc:
        return Delivery(error=exc)
    except OSError as exc:  # the stored file is gone: nothing left
        return Delivery(error=CloudAPIError(f"The file could not be read: {exc}", action=Action.ROW_FAIL))
    except Exception as exc:  # noqa: BLE001 - whatever broke, the request may have left: never re-send blindly
        current_app.logger.exception("Send of answer %s failed unexpectedly", claimed.id)
        return Delivery(error=CloudAPIError(f"Unexpected error while sending: {exc}", delivery_unknown=True))


def record(session: Session, claimed: Claimed, delivery: Delivery, now: datetime) -> str:
    """Write what the request's answer said; return the answer's status. A retryable Meta error (a refusal: the
    message did not go) makes it `pending` again, its send enqueued after the campaigns' back-off, until the
    workspace's send attempts are spent; then it fails."""
    answer = session.get(Answer, claimed.id, populate_existing=True)
    if delivery.result is not None:
        report(answer, "accepted", now, wamid=delivery.result.wamid)
    elif answer.status == "sending":  # else a webhook told us already
        error = delivery.error
        if error.delivery_unknown:
            move(answer, "unknown")
            note_error(answer, error.meta_error)
        elif (delay := _retry_in(error.action, claimed.attempts)) is not None:
            note_error(answer, error.meta_error)
            answer.status, answer.claim_token = "pending", None
            answer_id = answer.id
            on_commit(session, lambda: queue("dispatch").enqueue_in(timedelta(seconds=delay), SEND_JOB, answer_id))
        else:
            _fail(answer, error.meta_error, now)
    return answer.status


def _retry_in(action: Action, attempts: int) -> float | None:
    """Seconds before a refused answer is tried again (the recipients' back-off), or None: fail it now."""
    response = RESPONSES.get(action)
    if not action.retryable or response is None or response.delay is None:
        return None
    retries = Retries(WorkspaceSettings.get().send_attempts, current_app.config["RETRY_BASE_SECONDS"], 0, False)
    if attempts >= retries.max_attempts:  # every try counts here, throttling too: an answer is one message
        return None
    return max(response.delay(attempts, retries), 1.0)


def _fail(answer: Answer, error: MetaError, now: datetime) -> None:
    note_error(answer, error)
    answer.status, answer.failed_at, answer.claim_token = "failed", now, None


def resolve_stale_claims(session: Session, now: datetime) -> int:
    """Answers left `sending` by a worker that died mid-request become `unknown` (never re-sent blindly: the
    request may have reached Meta; a late status still moves them on). Returns how many."""
    cutoff = now.timestamp() - STALE_CLAIM_SECONDS
    stale = session.scalars(select(Answer).where(Answer.status == "sending", Answer.wamid.is_(None))).all()
    moved = 0
    for answer in stale:
        if answer.sending_at and answer.sending_at.timestamp() < cutoff:
            move(answer, "unknown")
            note_error(answer, MetaError(None, "The sending worker stopped mid-request: the answer may or may "
                                               "not have gone", ""))
            moved += 1
    return moved


# --- Meta's statuses ------------------------------------------------------------------------------

def apply_answer_statuses(session: Session, updates: list) -> list:
    """Move answers by the statuses Meta sends of them (found by wamid, or by the answer id in the callback
    data when the request's answer was lost); return the statuses that are not of an answer."""
    if not updates:
        return []
    wamids = {u.wamid for u in updates}
    ids = {int(m.group(1)) for u in updates
           if (m := CALLBACK.fullmatch(str((u.raw or {}).get("biz_opaque_callback_data") or "")))}
    found = session.scalars(select(Answer).where(Answer.wamid.in_(wamids) | Answer.id.in_(ids))).all()
    by_wamid = {a.wamid: a for a in found if a.wamid}
    by_id = {a.id: a for a in found}
    unmatched = []
    for update_ in sorted(updates, key=lambda u: u.at):
        callback = CALLBACK.fullmatch(str((update_.raw or {}).get("biz_opaque_callback_data") or ""))
        answer = by_wamid.get(update_.wamid) or (by_id.get(int(callback.group(1))) if callback else None)
        if answer is None or (answer.wamid and answer.wamid != update_.wamid):
            unmatched.append(update_)
            continue
        report(answer, update_.status, update_.at, wamid=update_.wamid, failure=update_.failure)
        by_wamid[answer.wamid] = answer
    return unmatched

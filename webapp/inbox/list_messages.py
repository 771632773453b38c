"""A free-form message to a list (the session-lists API's text, image, video and document send): each member inside
their 24-hour window gets it as an answer in their conversation — the same row, claim, rate limiter, at-most-once
send and webhook statuses as staff's answers (answers.py); the others are skipped with the reason.

The rows are written by one INSERT … SELECT and sent by batch jobs of BATCH answers each (jobs.inbox.send_answers), so a
list of 10,000 costs the request a few statements and a few dozen enqueues, never a request to Meta. A file staff
attached is uploaded to Meta once per sender number by a job (jobs.inbox.upload_list_media) before the batches go,
and every answer is sent its media id: one upload for the whole list, not one per recipient.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rq import Retry
from sqlalchemy import and_, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from webapp.cloudapi import CloudAPI, CloudAPIError
from webapp.contacts.models import Contact, ListMember
from webapp.inbox import answers, window
from webapp.inbox.media import stored_path
from webapp.inbox.models import Answer, Conversation
from webapp.meta_errors import MetaError
from webapp.queues import enqueue, on_commit
from webapp.senders.models import Sender
from webapp.senders.services import client_for

OUTSIDE = "outside the 24-hour window — needs a template"
OPTED_OUT = "opted out — only an answer to their own message may reach them"
BATCH = 200  # answers per send job
BATCH_JOB = "jobs.inbox.send_answers"
UPLOAD_JOB = "jobs.inbox.upload_list_media"
UPLOAD_RETRY = Retry(max=2, interval=[2, 10])  # a refused upload (5xx, throttling) is tried again, then fails


@dataclass(frozen=True)
class ListMessage:
    """What goes to everyone: a text, or a media message (a file stored by media.check_and_store, or a Meta media
    id / https link) with its caption."""

    kind: str  # text, image, video, audio or document
    text: str = ""
    media_file: str = ""
    media_name: str = ""
    media_mime: str = ""
    media_ref: str = ""

    def check(self) -> None:
        """Refuse (InboxError) an empty or too long text, or media without a usable id or link."""
        if self.kind == "text":
            answers.check_text(self.text)
        elif not self.media_file:
            answers.check_media_ref(self.kind, self.media_ref)

    def fields(self) -> dict:
        return {"kind": self.kind, "text": self.text if self.kind == "text" else self.text[:1024],
                "media_file": self.media_file, "media_name": self.media_name[:255], "media_mime": self.media_mime,
                "media_ref": self.media_ref}


@dataclass(frozen=True)
class Outcome:
    """One member's result: the answer's id (its status follows by webhook), or why they were skipped."""

    contact_id: int
    phone: str
    name: str
    message_id: int | None
    skipped: str = ""


@dataclass(frozen=True)
class Reach:
    members: int
    inside: int  # inside their window and not opted out: who a message would reach now
    opted_out: int

    @property
    def outside(self) -> int:
        return self.members - self.inside - self.opted_out


def _inside(now: datetime):
    return Conversation.last_customer_message_at > now - window.WINDOW


def reach(session: Session, list_id: int, now: datetime) -> Reach:
    """How many of the list a message would reach now, in one aggregate query (shown before sending)."""
    opted = Contact.opted_out_at.is_not(None)
    members, inside, opted_out = session.execute(
        select(func.count(), func.sum(case((and_(~opted, _inside(now)), 1), else_=0)),
               func.sum(case((opted, 1), else_=0)))
        .select_from(ListMember).join(Contact, Contact.id == ListMember.contact_id)
        .outerjoin(Conversation, Conversation.contact_id == Contact.id)
        .where(ListMember.list_id == list_id)).one()
    return Reach(int(members or 0), int(inside or 0), int(opted_out or 0))


def send_to_list(session: Session, list_id: int, message: ListMessage, user_id: int | None,
                 now: datetime) -> list[Outcome]:
    """Queue the message for every member inside their window (in the caller's transaction; sent by jobs after
    its commit); the others are skipped with the reason. Raises InboxError for a message that cannot go at all.
    The answers are one INSERT … SELECT and their conversations one UPDATE: no row of a member crosses the wire
    twice, whatever the list's size."""
    message.check()
    members = session.execute(
        select(Contact.id, Contact.phone, Contact.name, Contact.opted_out_at, Conversation.id.label("conversation_id"))
        .select_from(ListMember).join(Contact, Contact.id == ListMember.contact_id)
        .outerjoin(Conversation, Conversation.contact_id == Contact.id)
        .where(ListMember.list_id == list_id).order_by(Contact.id)).all()
    eligible = (select(Conversation.id).select_from(ListMember).join(Contact, Contact.id == ListMember.contact_id)
                .join(Conversation, Conversation.contact_id == Contact.id)
                .where(ListMember.list_id == list_id, Contact.opted_out_at.is_(None), _inside(now)))
    message_ids: dict[int, int] = {}  # conversation id -> answer id
    if session.scalar(select(eligible.exists())):
        first = session.scalar(select(Sender.id).order_by(Sender.id).limit(1))
        fields = message.fields()
        fixed = {**fields, **answers.pending(first, user_id, now)}
        del fixed["sender_id"]  # each conversation's own number, else the first
        table = Answer.__table__
        rows = eligible.with_only_columns(
            Conversation.id, func.coalesce(Conversation.sender_id, first), Contact.phone,
            *(literal(value, table.c[name].type) for name, value in fixed.items()))
        message_ids = dict(session.execute(
            insert(table).from_select(["conversation_id", "sender_id", "phone", *fixed], rows)
            .returning(table.c.conversation_id, table.c.id)).all())
        session.execute(update(Conversation).where(Conversation.id.in_(eligible))
                        .values(last_message_at=case((Conversation.last_message_at < now, now),
                                                     else_=Conversation.last_message_at),
                                last_text=answers.last_text(fields["text"], fields["media_name"], fields["kind"]))
                        .execution_options(synchronize_session=False))
        ids = sorted(message_ids.values())
        if message.media_file:  # uploaded once, then sent by id
            on_commit(session, lambda: enqueue(UPLOAD_JOB, message.media_file, ids, queue_name="dispatch",
                                               retry=UPLOAD_RETRY))
        else:
            on_commit(session, lambda: enqueue_batches(ids))
    return [Outcome(m.id, m.phone, m.name or "", message_ids.get(m.conversation_id), _skipped(m, message_ids))
            for m in members]


def _skipped(member, message_ids: dict[int, int]) -> str:
    if member.conversation_id in message_ids:
        return ""
    return OPTED_OUT if member.opted_out_at is not None else OUTSIDE


def enqueue_batches(answer_ids: list[int]) -> None:
    for i in range(0, len(answer_ids), BATCH):
        enqueue(BATCH_JOB, answer_ids[i:i + BATCH], queue_name="dispatch")


# --- a list's file, uploaded once per number: read (commit), upload (no database), record (commit) -----------

@dataclass(frozen=True)
class Upload:
    media_file: str
    sender_id: int
    phone_number_id: str
    client: CloudAPI
    path: Path
    name: str
    mime: str


def uploads_needed(session: Session, media_file: str) -> list[Upload]:
    """One upload per sender number whose pending answers still carry the stored file rather than a media id."""
    rows = session.execute(
        select(Answer.sender_id, Answer.media_name, Answer.media_mime)
        .where(Answer.media_file == media_file, Answer.media_ref == "", Answer.status == "pending")
        .group_by(Answer.sender_id, Answer.media_name, Answer.media_mime)).all()
    uploads = []
    for sender_id, name, mime in rows:
        sender = session.get(Sender, sender_id)
        if sender is not None:  # a removed number: its answers fail when claimed, as any answer's would
            uploads.append(Upload(media_file, sender.id, sender.phone_number_id, client_for(sender),
                                  stored_path(media_file), name, mime))
    return uploads


def upload(job: Upload) -> str:
    """The media id Meta gives the file (raises CloudAPIError, or OSError when the stored file is gone)."""
    return job.client.upload_media(job.phone_number_id, job.path.read_bytes(), job.mime, job.name)


def record_upload(session: Session, job: Upload, media_id: str) -> int:
    """Every pending answer of this file from this number is sent the media id; returns how many."""
    return session.execute(
        update(Answer).where(Answer.media_file == job.media_file, Answer.sender_id == job.sender_id,
                             Answer.media_ref == "", Answer.status == "pending")
        .values(media_ref=media_id).execution_options(synchronize_session=False)).rowcount


def fail_upload(session: Session, job: Upload, exc: CloudAPIError | OSError, now: datetime) -> int:
    """The file could not be uploaded: its pending answers from this number fail with the reason (none was sent)."""
    error = exc.meta_error if isinstance(exc, CloudAPIError) else MetaError(None, f"The file could not be read: {exc}")
    return session.execute(
        update(Answer).where(Answer.media_file == job.media_file, Answer.sender_id == job.sender_id,
                             Answer.media_ref == "", Answer.status == "pending")
        .values(status="failed", failed_at=now, error_code=error.code,
                error_title=f"The file could not be uploaded to WhatsApp: {error.title}"[:1000],
                error_detail=error.detail)
        .execution_options(synchronize_session=False)).rowcount

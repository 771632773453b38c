"""A free-form message to a list (the session-lists API's text, image, video and document send): each member inside
their 24-hour window gets it as an answer in their conversation — the same row, claim, rate limiter, at-most-once
send and webhook statuses as staff's answers (answers.py); the others are skipped with the reason.

The rows are written in one flush and sent by batch jobs of BATCH answers each (jobs.inbox.send_answers), so a
list of 10,000 costs the request one insert and a few dozen enqueues, never a request to Meta.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from webapp.contacts.models import Contact, ListMember
from webapp.inbox import answers, window
from webapp.inbox.models import Answer, Conversation
from webapp.queues import enqueue, on_commit
from webapp.senders.models import Sender

OUTSIDE = "outside the 24-hour window — needs a template"
OPTED_OUT = "opted out — only an answer to their own message may reach them"
BATCH = 200  # answers per send job
BATCH_JOB = "jobs.inbox.send_answers"


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

    def answer(self) -> Answer:
        return Answer(kind=self.kind, text=self.text if self.kind == "text" else self.text[:1024],
                      media_file=self.media_file, media_name=self.media_name[:255], media_mime=self.media_mime,
                      media_ref=self.media_ref)


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
    its commit); the others are skipped with the reason. Raises InboxError for a message that cannot go at all."""
    message.check()
    senders = {sender.id: sender for sender in session.scalars(select(Sender).order_by(Sender.id))}
    first = next(iter(senders.values()), None)
    rows = session.execute(
        select(Contact, Conversation).join(ListMember, ListMember.contact_id == Contact.id)
        .outerjoin(Conversation, Conversation.contact_id == Contact.id)
        .where(ListMember.list_id == list_id).order_by(Contact.id)).all()
    staged: list[tuple[Contact, Answer | None, str]] = []
    for contact, conversation in rows:
        if contact.opted_out:
            staged.append((contact, None, OPTED_OUT))
        elif conversation is None or not window.is_open(conversation.last_customer_message_at, now):
            staged.append((contact, None, OUTSIDE))
        else:
            sender = senders.get(conversation.sender_id) or first
            staged.append((contact, answers.stage(session, conversation, message.answer(), sender, user_id, now), ""))
    session.flush()
    ids = [answer.id for _, answer, _ in staged if answer is not None]
    if ids:
        on_commit(session, lambda: [enqueue(BATCH_JOB, ids[i:i + BATCH], queue_name="dispatch")
                                    for i in range(0, len(ids), BATCH)])
    return [Outcome(contact.id, contact.phone, contact.name or "", answer.id if answer else None, reason)
            for contact, answer, reason in staged]

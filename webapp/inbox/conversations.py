"""Conversations: kept current by every customer message, listed newest first a page at a time, worked by the team.

The list never counts messages: each conversation carries its unread count, its needs-answer flag and its last
times, changed as messages arrive (`record_inbound`) and as staff answer or read (answers.py, `mark_read`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, case, func, or_, select, text, update
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cloudapi import FREE_FORM_MEDIA
from webapp.contacts import optouts
from webapp.contacts.models import Contact
from webapp.inbox.errors import InboxError
from webapp.inbox.models import Conversation, InboundMedia
from webapp.queues import enqueue, on_commit
from webapp.senders.models import Sender
from webapp.transactions import upsert

PAGE_SIZE = 50
BADGE_MOST = 99
# The partial indexes' own predicates, written as literals: a bound parameter (`unread > ?`) keeps SQLite from
# using an index whose WHERE it cannot then prove.
UNREAD = text("conversations.unread > 0")
NEEDS_ANSWER = text("conversations.needs_answer")
PREVIEW_LENGTH = 200
NO_ANSWER_NEEDED = ("reaction", "system")  # a customer's emoji on a message, WhatsApp's notice of a new number
DOWNLOAD_JOB = "jobs.inbox.download_media"
# What staff can ask the list for; `open` (the default) leaves done conversations out.
SHOWS = {"open": "Open", "unread": "Unread", "needs_answer": "Needs answer", "mine": "Assigned to me",
         "done": "Done", "all": "All"}


@dataclass(frozen=True)
class Arrival:
    """A customer's message as the inbox needs it (the webhooks area reads Meta's JSON into it)."""

    inbound_id: int
    phone: str  # E.164, as Meta reports the customer
    profile_name: str
    type: str
    text: str
    at: datetime
    phone_number_id: str = ""  # the number they wrote to
    campaign_id: int | None = None  # the campaign message they answered, if any
    media: dict | None = None  # {"id", "mime_type", "filename"} of an image, video, audio or document
    sent_to: str | None = None  # the number our messages went to, when Meta reports the customer by another
    opts_out: bool = False  # an opt-out (STOP, a stop button): the customer asked for no more messages, not an answer


def record_inbound(session: Session, arrival: Arrival, contact_id: int | None) -> Conversation:
    """Put a new customer message in its conversation (creating the contact of a stranger, marked as from the
    inbox): the conversation reopens, counts it unread, needs an answer (unless the message is a reaction, a notice
    or an opt-out), and its window opens anew.
    Runs in the caller's write transaction; returns the conversation."""
    from_inbox = False
    if contact_id is None:
        from_inbox = session.scalar(select(Contact.id).where(Contact.known_by(arrival.phone, arrival.sent_to))
                                    .limit(1)) is None
        contact_id = optouts.contacts_of(session, arrival.phone, arrival.sent_to,
                                         create_with_name=arrival.profile_name)[0].id
    sender_id = session.scalar(select(Sender.id).where(Sender.phone_number_id == arrival.phone_number_id)) \
        if arrival.phone_number_id else None
    table = Conversation.__table__
    _start(session, contact_id, arrival.at, from_inbox, sender_id)
    newest = or_(table.c.last_customer_message_at.is_(None), table.c.last_customer_message_at <= arrival.at)
    latest = table.c.last_message_at <= arrival.at
    session.execute(
        update(table).where(table.c.contact_id == contact_id).values(
            unread=table.c.unread + 1,
            needs_answer=case((latest, arrival.type not in NO_ANSWER_NEEDED and not arrival.opts_out),
                              else_=table.c.needs_answer),
            status="open",
            last_customer_message_at=case((newest, arrival.at), else_=table.c.last_customer_message_at),
            last_message_at=case((latest, arrival.at), else_=table.c.last_message_at),
            last_text=case((latest, preview(arrival.text, arrival.type)), else_=table.c.last_text),
            campaign_id=func.coalesce(arrival.campaign_id, table.c.campaign_id),
            sender_id=func.coalesce(sender_id, table.c.sender_id),
        ).execution_options(synchronize_session=False))
    conversation = session.scalar(select(Conversation).where(Conversation.contact_id == contact_id)
                                  .execution_options(populate_existing=True))
    if arrival.media and arrival.type in FREE_FORM_MEDIA:
        _expect_media(session, arrival, conversation.sender_id)
    return conversation


def _expect_media(session: Session, arrival: Arrival, sender_id: int | None) -> None:
    media = arrival.media
    session.add(InboundMedia(inbound_message_id=arrival.inbound_id, sender_id=sender_id,
                             media_id=str(media.get("id") or "")[:128], mime_type=str(media.get("mime_type") or "")[:100],
                             filename=str(media.get("filename") or "")[:255], status="pending"))
    inbound_id = arrival.inbound_id
    on_commit(session, lambda: enqueue(DOWNLOAD_JOB, inbound_id, queue_name="default"))


def of_contact(session: Session, contact_id: int, now: datetime) -> Conversation:
    """The contact's conversation, started (empty, window closed) when we write first: a template to a contact
    who never wrote."""
    _start(session, contact_id, now)
    return session.scalar(select(Conversation).where(Conversation.contact_id == contact_id)
                          .execution_options(populate_existing=True))


def _start(session: Session, contact_id: int, at: datetime, from_inbox: bool = False,
           sender_id: int | None = None) -> None:
    """An empty conversation for the contact, unless it has one."""
    session.execute(upsert(session, Conversation.__table__).on_conflict_do_nothing(index_elements=["contact_id"]),
                    [{"contact_id": contact_id, "last_message_at": at, "unread": 0, "needs_answer": False,
                      "status": "open", "last_text": "", "from_inbox": from_inbox, "sender_id": sender_id,
                      "created_at": at}])


def preview(text: str, kind: str) -> str:
    """A message as one short line for the list."""
    shown = " ".join((text or "").split()) or f"[{kind}]"
    return shown if len(shown) <= PREVIEW_LENGTH else shown[:PREVIEW_LENGTH - 1] + "…"


# --- the list ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Listed:
    conversation: Conversation
    name: str
    phone: str
    opted_out: bool
    assigned_name: str


@dataclass(frozen=True)
class ConversationPage:
    conversations: list[Listed]
    older_than: str | None  # the keyset of the next (older) page, when there is one


def conversation_page(session: Session, user_id: int | None, *, show: str = "open", campaign_id: int | None = None,
                      search: str = "", before: str | None = None, size: int | None = None,
                      assigned_to: int | None = None) -> ConversationPage:
    """Newest first, keyset-paginated on (last_message_at, id): each filter has its index, so a page costs the
    same at 100,000 conversations as at ten."""
    size = size or PAGE_SIZE
    query = (select(Conversation, Contact.name, Contact.phone, Contact.opted_out_at, User.name, User.email)
             .join(Contact, Contact.id == Conversation.contact_id)
             .outerjoin(User, User.id == Conversation.assigned_to_id)
             .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(size + 1))
    query = query.where(*_filters(show, user_id, campaign_id))
    if assigned_to is not None:
        query = query.where(Conversation.assigned_to_id == assigned_to)
    if search := search.strip():
        query = query.where(_matching(search))
    if cursor := _cursor(before):
        at, last_id = cursor
        query = query.where(or_(Conversation.last_message_at < at,
                                and_(Conversation.last_message_at == at, Conversation.id < last_id)))
    rows = session.execute(query).all()
    listed = [Listed(conversation, name or "", phone, opted_out_at is not None, user_name or user_email or "")
              for conversation, name, phone, opted_out_at, user_name, user_email in rows[:size]]
    older = None
    if len(rows) > size:
        last = listed[-1].conversation
        older = f"{int(last.last_message_at.timestamp() * 1_000_000)}-{last.id}"
    return ConversationPage(listed, older)


def fingerprint(page: ConversationPage, badge: str) -> str:
    """What a list page and the Inbox's badge show, as a short digest: a poll that finds it unchanged swaps
    nothing (so a row keeps its focus and the page does not flicker)."""
    shown = [(row.conversation.id, row.conversation.last_message_at.isoformat(), row.conversation.unread,
              row.conversation.needs_answer, row.conversation.status, row.conversation.last_text, row.name,
              row.opted_out, row.assigned_name) for row in page.conversations]
    return hashlib.blake2b(repr((shown, page.older_than, badge)).encode(), digest_size=8).hexdigest()


def _filters(show: str, user_id: int | None, campaign_id: int | None) -> list:
    filters = {
        "open": [Conversation.status == "open"],
        "unread": [UNREAD],
        "needs_answer": [NEEDS_ANSWER],
        "mine": [Conversation.assigned_to_id == user_id],
        "done": [Conversation.status == "done"],
    }.get(show, [])
    if campaign_id is not None:
        filters.append(Conversation.campaign_id == campaign_id)
    return filters


def _matching(search: str):
    """A name containing the words typed, or a number containing the digits typed."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    by_name = Contact.name.ilike(f"%{escaped}%", escape="\\")
    digits = "".join(ch for ch in search if ch.isdigit())
    return or_(by_name, Contact.phone.contains(digits)) if len(digits) >= 3 else by_name


def _cursor(before: str | None) -> tuple[datetime, int] | None:
    try:
        micros, last_id = (int(part) for part in (before or "").split("-", 1))
        return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc), last_id
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def unread_total(session: Session) -> int:
    """Unread messages across conversations, counted in at most BADGE_MOST + 1 of them: every page shows the
    navigation's badge, so it reads a bounded slice of the unread index, however large the inbox."""
    some = select(Conversation.unread).where(UNREAD).limit(BADGE_MOST + 1).subquery()
    return int(session.scalar(select(func.sum(some.c.unread))) or 0)


def unread_badge(session: Session) -> str:
    """The navigation's badge: "", "7", or "99+" beyond BADGE_MOST."""
    total = unread_total(session)
    return "" if not total else f"{BADGE_MOST}+" if total > BADGE_MOST else str(total)


# --- team work -----------------------------------------------------------------------------------

def mark_read(session: Session, conversation: Conversation) -> None:
    if conversation.unread:
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(unread=0)
                        .execution_options(synchronize_session=False))
        conversation.unread = 0


def mark_done(conversation: Conversation) -> None:
    """Done: out of the open list until the customer writes again (which reopens it)."""
    conversation.status, conversation.needs_answer = "done", False


def reopen(conversation: Conversation) -> None:
    conversation.status = "open"


def assign(session: Session, conversation: Conversation, user_id: int | None) -> None:
    """Give the conversation to a staff member (None: to nobody)."""
    if user_id is not None and session.scalar(select(User.id).where(User.id == user_id, User.active.is_(True))) is None:
        raise InboxError("Choose an active staff member.", field="assigned_to")
    conversation.assigned_to_id = user_id


def staff_choices(session: Session) -> list[tuple[int, str]]:
    return [(uid, name or email) for uid, name, email in
            session.execute(select(User.id, User.name, User.email).where(User.active.is_(True)).order_by(User.name))]

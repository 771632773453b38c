"""A conversation's messages in time order: the campaign messages the contact received (as they read them), what
they sent us, and our answers — the newest page of them, older ones a page away.

Each source is read newest first with a limit on its own index (recipients by phone, inbound messages by phone,
answers by conversation), then merged: a page of a 1,000-message conversation reads at most three pages of rows.

Messages are ordered by (time, source, id), a total order: a page's cursor (`older_than`, opaque to its readers)
carries all three, so messages sharing one timestamp are never lost nor repeated across pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, Recipient
from webapp.cloudapi import RenderedTemplate, render_template_parts
from webapp.inbox.models import Answer, Conversation, InboundMedia
from webapp.webhooks.models import InboundMessage

PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
SOURCES = ("campaign", "inbound", "answer")  # at one instant, in this order


@dataclass(frozen=True)
class Item:
    """One message of the conversation; `kind` is "campaign", "inbound" or "answer"."""

    at: datetime
    kind: str
    message: Any  # a Recipient, an InboundMessage or an Answer
    campaign_name: str = ""
    rendered: RenderedTemplate | None = None  # a campaign message as the customer read it
    media: InboundMedia | None = None  # the file of a customer's media message


    @property
    def key(self) -> tuple[datetime, int, int]:
        return self.at, SOURCES.index(self.kind), self.message.id


@dataclass(frozen=True)
class Timeline:
    items: list[Item]  # oldest first
    older_than: str | None  # the cursor of the previous page, when there is one


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the oldest shown message's (time, source, id); older pages hold what sorts before it."""

    at: datetime
    source: int
    id: int

    def __str__(self) -> str:
        return f"{(self.at - EPOCH) // MICROSECOND}-{self.source}-{self.id}"

    @classmethod
    def read(cls, text: str | None) -> Cursor | None:
        """The cursor a page handed out, or None for anything else (the newest page)."""
        try:
            micros, source, last_id = (int(part) for part in (text or "").split("-"))
            at = EPOCH + micros * MICROSECOND
        except (TypeError, ValueError, OverflowError):
            return None
        return cls(at, source, last_id) if 0 <= source < len(SOURCES) else None

    def before(self, at, source: str, id_):
        """The condition on one source's (time, id) columns: sorts before the cursor."""
        rank = SOURCES.index(source)
        if rank < self.source:
            return at <= self.at
        if rank > self.source:
            return at < self.at
        return or_(at < self.at, and_(at == self.at, id_ < self.id))


def timeline(session: Session, conversation: Conversation, before: str | None = None,
             size: int | None = None) -> Timeline:
    """The page of messages before the cursor `before` (the newest page without one)."""
    size = size or PAGE_SIZE
    cursor = Cursor.read(before)
    contact = conversation.contact
    numbers = {contact.phone, contact.reported_number}
    fetched = size + 1  # one more of each source tells whether an older page exists
    items = _campaign_messages(session, numbers, cursor, fetched) + _inbound(session, numbers, cursor, fetched) \
        + _answers(session, conversation.id, cursor, fetched)
    items.sort(key=lambda item: item.key, reverse=True)
    shown = items[:size]
    older = str(Cursor(*shown[-1].key)) if len(items) > size else None
    return Timeline(list(reversed(shown)), older)


def _campaign_messages(session: Session, numbers: set[str], cursor: Cursor | None, size: int) -> list[Item]:
    at = func.coalesce(Recipient.accepted_at, Recipient.sending_at, Recipient.failed_at, Recipient.created_at)
    query = (select(Recipient, Campaign.name, Campaign.template_components, at.label("at"))
             .join(Campaign, Campaign.id == Recipient.campaign_id)
             .where(Recipient.phone.in_(numbers), Recipient.status.not_in(("pending", "skipped", "cancelled")))
             .order_by(at.desc(), Recipient.id.desc()).limit(size))
    if cursor:
        query = query.where(cursor.before(at, "campaign", Recipient.id))
    return [Item(_aware(when), "campaign", row, name, rendered=render_template_parts(components or [], row.params))
            for row, name, components, when in session.execute(query).all()]


def _inbound(session: Session, numbers: set[str], cursor: Cursor | None, size: int) -> list[Item]:
    query = (select(InboundMessage, InboundMedia)
             .outerjoin(InboundMedia, InboundMedia.inbound_message_id == InboundMessage.id)
             .where(InboundMessage.phone.in_(numbers))
             .order_by(InboundMessage.sent_at.desc(), InboundMessage.id.desc()).limit(size))
    if cursor:
        query = query.where(cursor.before(InboundMessage.sent_at, "inbound", InboundMessage.id))
    return [Item(message.sent_at, "inbound", message, media=media) for message, media in session.execute(query).all()]


def _answers(session: Session, conversation_id: int, cursor: Cursor | None, size: int) -> list[Item]:
    query = (select(Answer).where(Answer.conversation_id == conversation_id)
             .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(size))
    if cursor:
        query = query.where(cursor.before(Answer.created_at, "answer", Answer.id))
    return [Item(answer.created_at, "answer", answer) for answer in session.scalars(query)]


def _aware(value: datetime | str) -> datetime:
    """COALESCE hands SQLite's stored text back untyped: read it as the UTC it is."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

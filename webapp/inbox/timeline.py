"""A conversation's messages in time order: the campaign messages the contact received (as they read them), what
they sent us, and our answers — the newest page of them, older ones a page away.

Each source is read newest first with a limit on its own index (recipients by phone, inbound messages by phone,
answers by conversation), then merged: a page of a 1,000-message conversation reads at most three pages of rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, Recipient
from webapp.cloudapi import RenderedTemplate, render_template_parts
from webapp.inbox.models import Answer, Conversation, InboundMedia
from webapp.webhooks.models import InboundMessage

PAGE_SIZE = 50
FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Item:
    """One message of the conversation; `kind` is "campaign", "inbound" or "answer"."""

    at: datetime
    kind: str
    message: Any  # a Recipient, an InboundMessage or an Answer
    campaign_name: str = ""
    rendered: RenderedTemplate | None = None  # a campaign message as the customer read it
    media: InboundMedia | None = None  # the file of a customer's media message


@dataclass(frozen=True)
class Timeline:
    items: list[Item]  # oldest first
    older_than: datetime | None  # where the previous page ends, when there is one


def timeline(session: Session, conversation: Conversation, before: datetime | None = None,
             size: int | None = None) -> Timeline:
    size = size or PAGE_SIZE
    before = before or FAR_FUTURE
    contact = conversation.contact
    numbers = {contact.phone, contact.reported_number}
    fetched = size + 1  # one more of each source tells whether an older page exists
    items = _campaign_messages(session, numbers, before, fetched) + _inbound(session, numbers, before, fetched) \
        + _answers(session, conversation.id, before, fetched)
    items.sort(key=lambda item: item.at, reverse=True)
    shown = items[:size]
    older = shown[-1].at if len(items) > size else None
    return Timeline(list(reversed(shown)), older)


def _campaign_messages(session: Session, numbers: set[str], before: datetime, size: int) -> list[Item]:
    at = func.coalesce(Recipient.accepted_at, Recipient.sending_at, Recipient.failed_at, Recipient.created_at)
    rows = session.execute(
        select(Recipient, Campaign.name, Campaign.template_components, at.label("at"))
        .join(Campaign, Campaign.id == Recipient.campaign_id)
        .where(Recipient.phone.in_(numbers), Recipient.status.not_in(("pending", "skipped", "cancelled")),
               at < before)
        .order_by(at.desc()).limit(size)).all()
    return [Item(_aware(when), "campaign", row, name, rendered=render_template_parts(components or [], row.params))
            for row, name, components, when in rows]


def _inbound(session: Session, numbers: set[str], before: datetime, size: int) -> list[Item]:
    rows = session.execute(
        select(InboundMessage, InboundMedia)
        .outerjoin(InboundMedia, InboundMedia.inbound_message_id == InboundMessage.id)
        .where(InboundMessage.phone.in_(numbers), InboundMessage.sent_at < before)
        .order_by(InboundMessage.sent_at.desc(), InboundMessage.id.desc()).limit(size)).all()
    return [Item(message.sent_at, "inbound", message, media=media) for message, media in rows]


def _answers(session: Session, conversation_id: int, before: datetime, size: int) -> list[Item]:
    rows = session.scalars(
        select(Answer).where(Answer.conversation_id == conversation_id, Answer.created_at < before)
        .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(size))
    return [Item(answer.created_at, "answer", answer) for answer in rows]


def _aware(value: datetime | str) -> datetime:
    """COALESCE hands SQLite's stored text back untyped: read it as the UTC it is."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

"""A contact's history with us, for its page: every campaign message it was given (the campaign, when, the furthest
status the message reached, its error or reply) and every message it sent us, newest first, a page at a time.

Each is paged by keyset on its ids (newest first), read through indexes: recipient rows by contact or by number (a
row the API added by number before the contact existed has none), customers' messages by number — in each form Meta
reports it, as the inbox's timeline does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.inbox.models import Conversation
from webapp.webhooks.models import InboundMessage

PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    items: list[Any]  # (Recipient, Campaign) pairs, or InboundMessages
    older_than: int | None  # the id the next (older) page starts before, when there is one


def campaign_messages(session: Session, contact: Contact, before: int | None = None,
                      size: int = PAGE_SIZE) -> Page:
    query = (select(Recipient, Campaign).join(Campaign, Campaign.id == Recipient.campaign_id)
             .where(or_(Recipient.contact_id == contact.id, Recipient.phone.in_(_numbers(contact)))))
    if before:
        query = query.where(Recipient.id < before)
    rows = [tuple(row) for row in session.execute(query.order_by(Recipient.id.desc()).limit(size + 1))]
    return Page(rows[:size], rows[size - 1][0].id if len(rows) > size else None)


def messages_from(session: Session, contact: Contact, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    query = select(InboundMessage).where(InboundMessage.phone.in_(_numbers(contact)))
    if before:
        query = query.where(InboundMessage.id < before)
    rows = list(session.scalars(query.order_by(InboundMessage.id.desc()).limit(size + 1)))
    return Page(rows[:size], rows[size - 1].id if len(rows) > size else None)


def _numbers(contact: Contact) -> set[str]:
    return {contact.phone, contact.reported_number}


def conversation_of(session: Session, contact: Contact) -> Conversation | None:
    """The contact's conversation in the inbox, if it ever wrote to us."""
    return session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))

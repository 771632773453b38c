"""The Replies page's query: inbound messages across campaigns, newest first, a page at a time."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign
from webapp.contacts.models import Contact
from webapp.webhooks.models import InboundMessage

PAGE_SIZE = 50


@dataclass(frozen=True)
class Reply:
    message: InboundMessage
    contact_name: str
    campaign_id: int | None
    campaign_name: str
    template_name: str


@dataclass(frozen=True)
class RepliesPage:
    replies: list[Reply]
    older_than: int | None  # the keyset for the next (older) page, when there is one


def replies_page(session: Session, campaign_id: int | None = None, before: int | None = None,
                 size: int | None = None) -> RepliesPage:
    """Newest first by id, keyset-paginated; filtered by campaign on ix_inbound_messages_campaign_id_id."""
    size = size or PAGE_SIZE
    query = (select(InboundMessage, Contact.name, Campaign.name, Campaign.template_name)
             .outerjoin(Contact, Contact.id == InboundMessage.contact_id)
             .outerjoin(Campaign, Campaign.id == InboundMessage.campaign_id)
             .order_by(InboundMessage.id.desc()).limit(size + 1))
    if campaign_id is not None:
        query = query.where(InboundMessage.campaign_id == campaign_id)
    if before is not None:
        query = query.where(InboundMessage.id < before)
    rows = session.execute(query).all()
    replies = [Reply(message, contact_name or message.profile_name, message.campaign_id, campaign_name or "",
                     template_name or "") for message, contact_name, campaign_name, template_name in rows[:size]]
    return RepliesPage(replies, replies[-1].message.id if len(rows) > size else None)


def campaign_choices(session: Session, limit: int = 200) -> list[tuple[int, str]]:
    """Campaigns to filter by, newest first."""
    return [(cid, name) for cid, name in
            session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.id.desc()).limit(limit))]

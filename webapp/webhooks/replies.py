"""The campaigns customers' messages can be filtered by (the Inbox's campaign filter)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign


def campaign_choices(session: Session, limit: int = 200) -> list[tuple[int, str]]:
    """Campaigns to filter by, newest first."""
    return [(cid, name) for cid, name in
            session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.id.desc()).limit(limit))]

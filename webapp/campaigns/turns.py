"""Which campaign holds the sending worker while another one's dispatchers wait in the queue for their turn
(campaigns/dispatch.py hands the worker over slice by slice): what the waiting campaign's page says."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign
from webapp.campaigns.orphans import live_owners
from webapp.campaigns.queueing import marker
from webapp.queues import redis_client


def sending_instead(session: Session, campaign: Campaign) -> str | None:
    """The name of a campaign sending now while this sending campaign waits for a worker, else None."""
    if campaign.status != "sending" or campaign.waiting_until is not None:
        return None
    redis, slots = redis_client(), current_app.config["DISPATCHERS_PER_CAMPAIGN"]
    if live_owners(redis, campaign.id, slots) or not redis.exists(*(marker("dispatch", campaign.id, slot)
                                                                     for slot in range(slots))):
        return None  # sending, or not queued (between two jobs, or waiting for the tick)
    others = session.execute(select(Campaign.id, Campaign.name).where(Campaign.status == "sending",
                                                                      Campaign.id != campaign.id)).all()
    return next((name for other_id, name in others if live_owners(redis, other_id, slots)), None)

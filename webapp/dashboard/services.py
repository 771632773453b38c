"""Figures for the dashboard, each from one aggregate query."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.campaigns.models import ACTIVE_STATES, Campaign
from webapp.campaigns.workers import NEEDED, unserved
from webapp.contacts.models import Contact, ContactList
from webapp.extensions import db


@dataclass
class Overview:
    lists: int
    contacts: int
    opted_out: int
    campaigns: int
    active: int
    recent: list[Campaign]
    unserved: dict[str, str]  # queues that ongoing campaigns need and no worker serves -> what stands still


def overview() -> Overview:
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    return Overview(
        lists=count(select(func.count()).select_from(ContactList)),
        contacts=count(select(func.count()).select_from(Contact)),
        opted_out=count(select(func.count()).select_from(Contact).where(Contact.opted_out_at.is_not(None))),
        campaigns=count(select(func.count()).select_from(Campaign)),
        active=count(select(func.count()).select_from(Campaign).where(Campaign.status.in_(ACTIVE_STATES))),
        recent=list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(5))),
        unserved=unserved(db.session.scalars(select(Campaign.status).distinct()
                                             .where(Campaign.status.in_(NEEDED)))),
    )

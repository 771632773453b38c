"""Campaign rows in the state the sender leaves them: claimed, accepted by the API, each with its wamid."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from tests import factories
from tests.webhooks import meta
from webapp.campaigns.lifecycle import claim
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def configure_webhook(**fields) -> WorkspaceSettings:
    settings = WorkspaceSettings.get()
    settings.meta_app_secret, settings.meta_verify_token = meta.SECRET, meta.VERIFY_TOKEN
    for name, value in fields.items():
        setattr(settings, name, value)
    db.session.commit()
    return settings


def phone(i: int) -> str:
    return f"+1555000{i:04d}"


def accepted_campaign(count: int, *, first: int = 0, with_wamids: bool = True, **fields) -> tuple[Campaign, list[Recipient]]:
    """A sending campaign whose rows were all claimed and (with_wamids) accepted by the Cloud API."""
    campaign = factories.campaign(phones=[phone(first + i) for i in range(count)], **fields)
    claim(db.session, campaign.id, count, T0)
    rows = list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                                   .order_by(Recipient.id)))
    for row in rows:
        row.name = f"Customer {row.phone[-4:]}"
        if with_wamids:
            row.wamid = wamid(row)
    db.session.commit()
    return campaign, rows


def wamid(row: Recipient) -> str:
    return f"wamid.TEST{row.id:08d}"


def wa_id(row: Recipient) -> str:
    return row.phone.lstrip("+")


def fresh(model, ident):
    """The row as the database has it now (after requests made in other sessions)."""
    db.session.expire_all()
    return db.session.get(model, ident)

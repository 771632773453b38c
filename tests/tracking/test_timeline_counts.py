"""The campaign page's timeline comes from figures kept as rows move: they say what a scan of the rows would, however
Meta batches, repeats and reorders its statuses."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.campaigns.models import Recipient, TimelineCount
from webapp.campaigns.timeline_counts import SCANNED, rebuild
from webapp.extensions import db
from webapp.tracking.timeline import timeline

def _statuses(rows) -> list[dict]:
    """Each row's statuses as Meta would send them: 7 s apart per row, delivered 3 s after sent, read 2 minutes
    later; a few rows only sent, one failed after it was sent, one read with no `delivered` at all."""
    items = []
    for i, row in enumerate(rows):
        sent = T0 + timedelta(seconds=7 * i)
        stages = {"sent": sent, "delivered": sent + timedelta(seconds=3), "read": sent + timedelta(minutes=2)}
        if i % 5 == 4:
            stages = {"sent": sent}
        elif i == 1:
            stages = {"sent": sent, "failed": sent + timedelta(seconds=1)}
        elif i == 2:
            del stages["delivered"]
        for stage, at in stages.items():
            error = (131026, "Message undeliverable", "") if stage == "failed" else None
            items.append(meta.status(wamid(row), stage, at, wa_id(row), row_id=row.id, error=error))
    return items


def _same_as_a_recount(campaign_id: int) -> None:
    assert timeline(db.session, campaign_id) == timeline(db.session, campaign_id, SCANNED)
    stamped = {stage: db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id,
                                                                    getattr(Recipient, f"{stage}_at").is_not(None)))
               for stage in ("sent", "delivered", "read")}
    assert {stage: sum(values) for stage, values in timeline(db.session, campaign_id).series.items()} == stamped


def test_the_kept_timeline_equals_a_recount_after_batches_duplicates_and_reordering(client, webhook):
    campaign, rows = accepted_campaign(15)
    items = _statuses(rows)
    random.Random(20).shuffle(items)  # read before sent, failed before sent…
    for start in range(0, len(items), 6):  # several statuses per POST, as Meta batches them
        assert meta.post(client, meta.statuses(*items[start:start + 6])).status_code == 200
    for item in items[::3]:  # and again, one by one: duplicates change nothing
        assert meta.post(client, meta.statuses(item)).status_code == 200
    db.session.expire_all()
    _same_as_a_recount(campaign.id)
    data = timeline(db.session, campaign.id)  # 7 s apart, read 2 minutes later: under 10 minutes in all
    assert (data.step, sum(data.series["sent"]), sum(data.series["delivered"]), sum(data.series["read"])) == \
        (5, 15, 10, 11)

    late = meta.status(wamid(rows[4]), "read", T0 + timedelta(days=1, seconds=13), wa_id(rows[4]), row_id=rows[4].id)
    assert meta.post(client, meta.statuses(late)).status_code == 200  # a read receipt the next day: by the half hour
    db.session.expire_all()
    _same_as_a_recount(campaign.id)
    assert timeline(db.session, campaign.id).step == 1800


def test_rebuilding_the_figures_from_the_rows_gives_the_same_timeline(client, webhook):
    campaign, rows = accepted_campaign(10)
    other = factories.campaign(phones=["+15559990001"], sender=campaign.sender)
    db.session.add(TimelineCount(campaign_id=other.id, width=1, stage="sent", at=1, shard=0, count=1))
    db.session.commit()
    assert meta.post(client, meta.statuses(*_statuses(rows))).status_code == 200
    db.session.expire_all()
    before = timeline(db.session, campaign.id)
    rebuild(db.session, [campaign.id])
    db.session.commit()
    assert timeline(db.session, campaign.id) == before
    _same_as_a_recount(campaign.id)
    assert db.session.scalar(select(func.sum(TimelineCount.count)).where(TimelineCount.campaign_id == other.id)) == 1

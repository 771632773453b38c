"""The dashboard's daily figures move with the rows: they always equal what a scan of the rows would say."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, configure_webhook, wa_id, wamid
from webapp.campaigns.daily import CampaignDay, FailureDay, SendHour, Tally, rebuild, scan
from webapp.campaigns.models import Recipient
from webapp.extensions import db
from webapp.webhooks.inbound import opt_out_answers

UNDELIVERABLE = (131026, "Message undeliverable", "Unable to deliver message.")


def stored() -> dict:
    """What the three tables say, shards added up."""
    db.session.expire_all()
    days = {(day, campaign_id): Counter({k: v for k, v in figures.items() if v})
            for day, campaign_id, *values in db.session.execute(
                select(CampaignDay.day, CampaignDay.campaign_id, *(func.sum(getattr(CampaignDay, name)) for name in
                                                                   ("sent", "delivered", "read", "replied", "failed",
                                                                    "opted_out")))
                .group_by(CampaignDay.day, CampaignDay.campaign_id))
            for figures in [dict(zip(("sent", "delivered", "read", "replied", "failed", "opted_out"), values))]}
    hours = {(day, hour): Counter({k: v for k, v in zip(("sent", "read", "replied"), values) if v})
             for day, hour, *values in db.session.execute(
                 select(SendHour.day, SendHour.hour, func.sum(SendHour.sent), func.sum(SendHour.read),
                        func.sum(SendHour.replied)).group_by(SendHour.day, SendHour.hour))}
    failures = dict(db.session.execute(select(FailureDay.day, func.sum(FailureDay.failed)).group_by(FailureDay.day)
                                       .where(FailureDay.error_code == UNDELIVERABLE[0])).all())
    return {"days": {k: v for k, v in days.items() if v}, "hours": {k: v for k, v in hours.items() if v},
            "failures": failures}


def scanned() -> dict:
    tally = scan(db.session, opt_out_answers())
    failures = {day: failed for (day, code), failed in tally.failures.items() if code == UNDELIVERABLE[0]}
    return {"days": {k: +v for k, v in tally.days.items() if +v}, "hours": {k: +v for k, v in tally.hours.items() if +v},
            "failures": failures}


def test_the_daily_figures_equal_a_scan_whatever_order_duplicates_and_late_failures_webhooks_come_in(client):
    configure_webhook(timezone="America/New_York")  # T0 is 07:00 there, on 23 November
    campaign, rows = accepted_campaign(5)
    db.session.execute(Recipient.__table__.update().where(Recipient.id == rows[4].id).values(
        zone="Asia/Kolkata", sending_at=T0 - timedelta(hours=13)))  # sent the evening before, New York time
    db.session.commit()
    at = lambda seconds: T0 + timedelta(seconds=seconds)  # noqa: E731
    status = lambda row, name, seconds, **kw: meta.status(wamid(row), name, at(seconds), wa_id(row), row.id, **kw)  # noqa: E731
    items = [
        status(rows[0], "read", 3), status(rows[0], "sent", 1), status(rows[0], "delivered", 2),  # out of order
        status(rows[1], "sent", 1), status(rows[1], "sent", 1), status(rows[1], "delivered", 2),  # a duplicate
        status(rows[2], "sent", 1), status(rows[2], "delivered", 2),
        status(rows[2], "failed", 9, error=UNDELIVERABLE),  # failed after it was delivered
        status(rows[3], "failed", 1, error=UNDELIVERABLE),
        status(rows[4], "sent", 1), status(rows[4], "read", 3),
    ]
    for item in items:
        assert meta.post(client, meta.statuses(item)).status_code == 200
    meta.post(client, meta.message("wamid.IN1", wa_id(rows[0]), at(60), text="Thanks!", context=wamid(rows[0])))
    meta.post(client, meta.message("wamid.IN2", wa_id(rows[4]), at(60), text="STOP", context=wamid(rows[4])))
    meta.post(client, meta.message("wamid.IN3", wa_id(rows[4]), at(70), text="stop", context=wamid(rows[4])))

    figures = stored()
    day, eve = date(2026, 11, 23), date(2026, 11, 22)
    assert figures["days"] == {
        (day, campaign.id): Counter(sent=3, delivered=3, read=1, replied=1, failed=2),
        (eve, campaign.id): Counter(sent=1, read=1, replied=1, delivered=1, opted_out=1),
    }
    assert figures["hours"][(day, 7)] == Counter(sent=3, read=1, replied=1)  # New York's 07:00
    assert figures["hours"][(eve, 4)] == Counter(sent=1, read=1, replied=1)  # 23:00 UTC is 04:30 in Kolkata
    assert figures["failures"] == {day: 2}
    assert figures == scanned()

    rebuild(db.session, opt_out_answers())  # what `flask dashboard rebuild` writes equals what the webhooks did
    db.session.commit()
    assert stored() == figures


def test_a_tally_puts_a_send_on_the_workspace_day_and_the_recipients_hour():
    from zoneinfo import ZoneInfo
    tally = Tally(ZoneInfo("Europe/Madrid"))
    assert tally.when(T0.replace(hour=23, minute=30), "Asia/Tokyo") == (date(2026, 11, 24), 8)
    assert tally.when(T0.replace(hour=22, minute=59), None) == (date(2026, 11, 23), 23)

"""The campaign page's counters, rates, funnel and timeline: live while the campaign runs, still when it ends."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.campaigns.lifecycle import add_counts
from webapp.extensions import db


def _stat(html: str, label: str) -> str:
    match = re.search(rf'aria-label="{label}">\s*<div class="label">{label}</div>\s*<div class="value">([\d,]+)</div>', html)
    assert match, f"no {label} counter"
    return match.group(1)


def _play(client, rows, stages):
    """Post each row's statuses up to its stage: e.g. stages = ["read", "sent", "failed"]."""
    for row, last in zip(rows, stages):
        path = ["failed"] if last == "failed" else ["sent", "delivered", "read"][:["sent", "delivered", "read"].index(last) + 1]
        for i, stage in enumerate(path):
            error = (131026, "Message undeliverable", "") if stage == "failed" else None
            meta.post(client, meta.statuses(meta.status(wamid(row), stage, T0 + timedelta(minutes=i), wa_id(row),
                                                        row_id=row.id, error=error)))


@pytest.mark.parametrize("status", ["queued", "sending", "paused", "scheduled"])
def test_counters_poll_every_two_seconds_while_the_campaign_is_live(staff_client, webhook, status):
    campaign, rows = accepted_campaign(3, status=status)
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/campaigns/{campaign.id}/live/counters"' in html
    assert _stat(html, "Recipients") == "3" and _stat(html, "Queued") == "3"


@pytest.mark.parametrize("status", ["sent", "partially_sent", "failed", "cancelled", "draft"])
def test_counters_stop_polling_once_the_campaign_is_finished(staff_client, webhook, status):
    campaign, rows = accepted_campaign(2, status=status)
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    assert "hx-trigger" not in html and "hx-get" not in html
    assert _stat(html, "Recipients") == "2"


@pytest.mark.parametrize("finished_ago, trigger", [(timedelta(minutes=5), 'hx-trigger="every 10s"'),
                                                   (timedelta(hours=3), None)])
def test_after_completion_counters_poll_slowly_while_webhooks_settle_then_stop(staff_client, webhook,
                                                                             finished_ago, trigger):
    from webapp.extensions import db
    from webapp.timestamps import utcnow

    campaign, rows = accepted_campaign(2, status="sent")
    campaign.completed_at = utcnow() - finished_ago
    db.session.commit()
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    if trigger:
        assert trigger in html
    else:
        assert "hx-trigger" not in html and "hx-get" not in html


def test_counters_follow_the_webhooks_with_rates_and_funnel(staff_client, webhook):
    campaign, rows = accepted_campaign(5)
    _play(staff_client, rows, ["read", "read", "delivered", "sent", "failed"])
    meta.post(staff_client, meta.message("wamid.IN1", wa_id(rows[0]), T0 + timedelta(minutes=5), "Yes!",
                                         context=wamid(rows[0])))
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    figures = {label: _stat(html, label) for label in
               ("Recipients", "Queued", "Sent", "Delivered", "Read", "Replied", "Failed", "Skipped")}
    assert figures == {"Recipients": "5", "Queued": "0", "Sent": "4", "Delivered": "3", "Read": "2",
                       "Replied": "1", "Failed": "1", "Skipped": "0"}
    assert "5 of 5 processed (100.0%)" in html
    assert re.search(r"<dt>Delivered</dt>\s*<dd>75.0%", html)
    assert re.search(r"<dt>Read</dt>\s*<dd>50.0%", html)
    assert re.search(r"<dt>Response rate</dt>\s*<dd>25.0%", html)
    assert "Funnel: Recipients 5, Accepted 4, Sent 4, Delivered 3, Read 2, Replied 1" in html


def test_counters_read_the_maintained_counters_not_the_rows(staff_client, webhook):
    campaign = factories.campaign(phones=["+15550000001"])
    add_counts(db.session, campaign.id, {"total": 999_999, "pending": 999_999})  # rows that were never written
    db.session.commit()
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    assert _stat(html, "Recipients") == "1,000,000"


def test_unknown_is_shown_only_when_some_rows_are_unknown(staff_client, webhook):
    campaign, rows = accepted_campaign(2)
    url = f"/campaigns/{campaign.id}/live/counters"
    assert 'aria-label="Unknown"' not in staff_client.get(url).get_data(as_text=True)
    add_counts(db.session, campaign.id, {"sending": -1, "unknown": 1})
    db.session.commit()
    assert _stat(staff_client.get(url).get_data(as_text=True), "Unknown") == "1"


def test_the_timeline_draws_sent_delivered_and_read_per_minute(staff_client, webhook):
    campaign, rows = accepted_campaign(4)
    url = f"/campaigns/{campaign.id}/live/timeline"
    assert "Nothing sent yet" in staff_client.get(url).get_data(as_text=True)
    _play(staff_client, rows, ["read", "read", "delivered", "sent"])
    html = staff_client.get(url).get_data(as_text=True)
    assert html.count("<polyline") == 3
    assert "Messages sent, delivered and read per minute" in html
    assert "Sent: 4 in all, at most 4 per minute. Delivered: 3 in all" in html
    assert "Read: 2 in all, at most 2 per minute." in html
    assert 'hx-trigger="every 30s"' in html


def test_a_long_timeline_is_drawn_in_wider_buckets(app, webhook):
    from webapp.tracking.timeline import MAX_POINTS, timeline

    campaign, rows = accepted_campaign(3)
    for i, row in enumerate(rows):
        row.sent_at = T0 + timedelta(hours=10 * i)
    db.session.commit()
    data = timeline(db.session, campaign.id)
    assert data.step == 10 and len(data.series["sent"]) <= MAX_POINTS and sum(data.series["sent"]) == 3


def test_live_parts_need_a_login(client, staff, webhook):
    campaign, rows = accepted_campaign(1)
    assert client.get(f"/campaigns/{campaign.id}/live/counters").status_code == 302
    assert client.get(f"/campaigns/{campaign.id}/live/counters", headers={"HX-Request": "true"}).status_code == 401
    assert client.get(f"/campaigns/{campaign.id}/log.csv").status_code == 302


def test_an_unknown_campaign_is_not_found(staff_client, webhook):
    assert staff_client.get("/campaigns/424242/live/counters").status_code == 404
    assert staff_client.get("/campaigns/424242/log").status_code == 404


def test_an_expensive_timeline_is_reused_for_a_while_and_a_cheap_one_never(app, webhook, monkeypatch):
    from webapp.tracking import timeline as timeline_module

    campaign, rows = accepted_campaign(2)
    rows[0].sent_at = T0
    db.session.commit()
    first = timeline_module.recent_timeline(db.session, campaign.id)
    rows[1].sent_at = T0
    db.session.commit()
    assert sum(timeline_module.recent_timeline(db.session, campaign.id).series["sent"]) == 2  # cheap: fresh

    monkeypatch.setattr(timeline_module, "EXPENSIVE", -1.0)  # as if every draw were slow
    drawn = timeline_module.recent_timeline(db.session, campaign.id)
    rows[0].delivered_at = T0
    db.session.commit()
    assert timeline_module.recent_timeline(db.session, campaign.id) is drawn
    assert sum(first.series["sent"]) == 1

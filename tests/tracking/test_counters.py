"""The campaign page's counters, rates, funnel and timeline: live while the campaign runs, still when it ends."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.timeline_counts import rebuild
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings


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


@pytest.mark.parametrize("status", ["queued", "sending", "paused", "scheduled", "sent", "cancelled", "draft"])
def test_the_counters_never_poll_by_themselves(staff_client, webhook, status):
    """The page's one poll brings them (tests/tracking/test_live_page.py), so they cannot disagree with the heading."""
    campaign, rows = accepted_campaign(3, status=status)
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    assert "hx-trigger" not in html and "hx-get" not in html
    assert _stat(html, "Recipients") == "3" and _stat(html, "Queued") == "3"


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


def test_the_timeline_draws_sent_delivered_and_read_and_refreshes_when_the_campaign_changes(staff_client, webhook):
    campaign, rows = accepted_campaign(4)
    url = f"/campaigns/{campaign.id}/live/timeline"
    assert "Nothing sent yet" in staff_client.get(url).get_data(as_text=True)
    _play(staff_client, rows, ["read", "read", "delivered", "sent"])  # a minute apart: sent, delivered, read
    html = staff_client.get(url).get_data(as_text=True)
    assert "Nothing sent yet" not in html
    assert "Messages sent, delivered and read per 5 s" in html and "messages per 5 s" in html
    assert "Sent: 4 in all, at most 4 per 5 s. Delivered: 3 in all" in html
    assert "Read: 2 in all, at most 2 per 5 s." in html
    assert 'hx-trigger="campaign-changed from:body"' in html  # no clock of its own: the page's poll says when


def _timeline_of(seconds: list[int], **dates):
    from webapp.tracking.timeline import recent_timeline

    campaign, rows = accepted_campaign(len(seconds), started_at=T0, **dates)
    for row, second in zip(rows, seconds):
        row.sent_at = row.delivered_at = T0 + timedelta(seconds=second)
    rebuild(db.session, [campaign.id])  # stamped here rather than by webhooks: the kept figures follow a repair
    db.session.commit()
    return recent_timeline(db.session, campaign)


def test_a_one_minute_campaign_is_drawn_by_the_second(app, webhook):
    data = _timeline_of(list(range(0, 60, 3)), status="sent", completed_at=T0 + timedelta(seconds=60))
    assert data.step == 1 and data.unit == "second" and data.start == T0
    assert sum(data.series["sent"]) == 20 and data.buckets == 58


def test_a_five_hour_campaign_is_drawn_in_minutes(app, webhook):
    data = _timeline_of([0, 3600, 5 * 3600 - 1], status="sent", completed_at=T0 + timedelta(hours=5))
    assert data.step == 300 and data.unit == "5 min" and sum(data.series["delivered"]) == 3 and data.buckets == 60


def test_statuses_long_after_a_short_campaign_widen_its_buckets(app, webhook):
    from webapp.tracking.timeline import MAX_POINTS

    data = _timeline_of([0, 20, 2 * 86400], status="sent", completed_at=T0 + timedelta(seconds=30))
    assert data.step == 1800 and data.buckets <= MAX_POINTS and sum(data.series["sent"]) == 3


def test_a_single_bucket_draws_bars_with_labelled_axes_in_the_workspace_zone(staff_client, webhook):
    WorkspaceSettings.get().timezone = "Asia/Kolkata"
    campaign, rows = accepted_campaign(3)
    for row in rows:
        row.sent_at = T0 + timedelta(milliseconds=100 * row.id)  # all within one second
    rebuild(db.session, [campaign.id])
    db.session.commit()
    html = staff_client.get(f"/campaigns/{campaign.id}/live/timeline").get_data(as_text=True)
    assert "<polyline" not in html and html.count("<rect") == 1 + 3  # one bar (sent), and the legend's three keys
    assert "messages per second" in html
    assert ">17:30:00<" in html  # T0 (12:00 UTC) on the time axis, in Asia/Kolkata
    assert re.search(r'text-anchor="end" fill="#55616d">5</text>', html)  # the count axis, up to 3 rounded to 5
    assert "time (Asia/Kolkata)" in html


def test_live_parts_need_a_login(client, staff, webhook):
    campaign, rows = accepted_campaign(1)
    assert client.get(f"/campaigns/{campaign.id}/live/counters").status_code == 302
    assert client.get(f"/campaigns/{campaign.id}/live/counters", headers={"HX-Request": "true"}).status_code == 401
    assert client.get(f"/campaigns/{campaign.id}/log.csv").status_code == 302


def test_an_unknown_campaign_is_not_found(staff_client, webhook):
    assert staff_client.get("/campaigns/424242/live/counters").status_code == 404
    assert staff_client.get("/campaigns/424242/live/timeline").status_code == 404
    assert staff_client.get("/campaigns/424242/log").status_code == 404

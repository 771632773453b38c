"""The quality guardrail end to end: a campaign's first slice goes to the real sandbox, whose signed webhooks come
back to the app over HTTP; a slice where a tenth opt out pauses the campaign before the rest, staff resume it;
Meta's quality and account webhooks (sent by the sandbox) pause a number's campaign once, lower its tier, and
Settings → Sender numbers shows it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.campaigns.sending import launch, send_all
from tests.conftest import post
from tests.processes import wait_until
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.sandbox.webhooks import encode, signature
from webapp.senders.models import Sender
from webapp.workspace.models import WorkspaceSettings

SECRET = "sandbox-app-secret"  # the sandbox signs with it
QUICK = {"sent_delay": 0.1, "delivered_delay": 0.2, "read_delay": 0.3, "reply_delay": 0.4, "delay_jitter": 0.05}


def _people(count, first=0):
    return [(f"+1555000{i:04d}", f"Customer {i}", {"order": f"A-{i}"}) for i in range(first, first + count)]


def _fresh(campaign_id) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def _accepted(campaign_id) -> int:
    return db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id,
                                                        Recipient.accepted_at.is_not(None)))


def _listen(app, sandbox, live_server, settle=1.0, **settings):
    app.config.update(META_APP_SECRET=SECRET, GUARD_SETTLE_SECONDS=settle, GUARD_WAIT_SECONDS=10)
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", **QUICK, **settings)


@pytest.mark.only_on("sqlite")  # PostgreSQL: the healthy slice below
def test_a_slice_where_a_tenth_opt_out_pauses_the_campaign_before_the_rest_and_resuming_sends_it(
        app, sandbox, sandbox_sender, live_server, admin_client):
    settings = WorkspaceSettings.get()
    settings.guard_first_slice, settings.guard_slice_percent = True, 50  # 20 recipients: a slice of 10
    db.session.commit()
    # Numbers 2 to 21, the slice 2 to 11. Seed 40: the profile reads every message of the slice; p_opt_out:
    # numbers 11 (the slice's last) and 19 reply STOP.
    _listen(app, sandbox, live_server, settle=5.0, seed=40, p_opt_out=0.1)  # the STOP comes well before
    campaign = launch(sandbox_sender, _people(20, first=2))
    assert (campaign.slice_size, campaign.guard_state) == (10, "slice")

    paused = send_all(campaign.id)

    assert paused.status == "paused"
    assert "Paused by the quality guardrail: 1 of the first 10 recipients opted out (more than 2%)" in paused.notice
    assert _accepted(campaign.id) == 10 and len(sandbox.messages()) == 10  # nothing beyond the slice went
    page = admin_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "1 of the first 10 recipients opted out" in page

    answer = post(admin_client, f"/campaigns/{campaign.id}/resume", follow_redirects=True)
    assert "The quality guardrail is cleared for it" in answer.get_data(as_text=True)
    done = send_all(campaign.id)

    assert done.status in ("sent", "partially_sent") and done.guard_state == "cleared"
    assert _accepted(campaign.id) == 20  # the later opt-out (19) no longer pauses it


@pytest.mark.only_on("postgresql")  # the claim's SKIP LOCKED with the slice's bound; SQLite: the tenth above
def test_a_healthy_slice_lets_the_rest_go_once_its_outcomes_are_in(app, sandbox, sandbox_sender, live_server):
    settings = WorkspaceSettings.get()
    settings.guard_first_slice, settings.guard_slice_max = True, 3  # 10 recipients: 5 % is 1, at most 3
    db.session.commit()
    _listen(app, sandbox, live_server, seed=40)  # everyone reads, nobody opts out
    campaign = launch(sandbox_sender, _people(10))
    assert campaign.slice_size == 1

    done = send_all(campaign.id)

    assert (done.status, done.guard_state, _accepted(campaign.id)) == ("sent", "passed", 10)
    first = db.session.scalar(select(Recipient).where(Recipient.campaign_id == campaign.id).order_by(Recipient.id))
    later = db.session.scalar(select(func.min(Recipient.accepted_at)).where(Recipient.campaign_id == campaign.id,
                                                                            Recipient.id > first.id))
    assert (later - first.accepted_at).total_seconds() >= 1.0  # the rest waited for the slice's outcomes


def test_metas_downgrade_pauses_the_numbers_campaign_once_and_settings_show_the_new_tier(
        app, sandbox, sandbox_sender, live_server, admin_client):
    _listen(app, sandbox, live_server)
    campaign = launch(sandbox_sender, _people(5))  # sending, its dispatcher not started
    refused = sandbox.http.post(f"{sandbox.base_url}/_sandbox/quality", json={"event": "SIDEWAYS"}, timeout=10)
    assert refused.status_code == 400 and "'event' must be one of FLAGGED" in refused.json()["error"]
    assert sandbox.control("GET", "webhooks")["count"] == 0  # nothing sent for it
    sandbox.control("POST", "quality", json={"event": "DOWNGRADE", "current_limit": "TIER_250"})

    paused = wait_until(lambda: (c := _fresh(campaign.id)).status == "paused" and c, timeout=15,
                        message="the downgrade to pause the campaign")
    assert "Meta lowered the messaging limit of" in paused.notice and "to 250 customers a day" in paused.notice
    sender = db.session.get(Sender, sandbox_sender.id)
    assert (sender.messaging_limit, sender.messaging_limit_tier, sender.quality_event) == (250, "TIER_250", "DOWNGRADE")
    page = admin_client.get("/settings/senders").get_data(as_text=True)
    assert "TIER_250" in page and "Meta: DOWNGRADE" in page and "250 customers / 24 h" in page

    # Staff resume; Meta sends the same webhook again (a retry): it changes nothing, the campaign goes on.
    post(admin_client, f"/campaigns/{campaign.id}/resume")
    delivered = sandbox.control("GET", "webhooks")["data"][-1]
    body = encode(delivered["payload"])
    again = admin_client.post("/webhooks/meta", data=body, content_type="application/json",
                              headers={"X-Hub-Signature-256": signature(body, SECRET)})
    assert again.status_code == 200 and _fresh(campaign.id).status == "sending"

    # The account is restricted: paused again. Then a sync reads the number's tier and rating from the Graph API.
    sandbox.control("POST", "account-update", json={"event": "ACCOUNT_RESTRICTION"})
    restricted = wait_until(lambda: (c := _fresh(campaign.id)).status == "paused" and c, timeout=15,
                            message="the restriction to pause the campaign")
    assert "ACCOUNT_RESTRICTION (RESTRICTED_BIZ_INITIATED_MESSAGING)" in restricted.notice
    sandbox.control("POST", "quality", json={"event": "FLAGGED"})
    synced = post(admin_client, f"/settings/senders/{sandbox_sender.id}/sync", follow_redirects=True)
    assert "Quality rating: low." in synced.get_data(as_text=True)
    assert db.session.get(Sender, sandbox_sender.id, populate_existing=True).quality_rating == "RED"


@pytest.mark.only_on("sqlite")  # a form: no database of its own to exercise
def test_bad_guardrail_settings_are_refused_with_a_reason_and_nothing_changes(admin_client):
    form = admin_client.get("/settings/").get_data(as_text=True)
    assert "Quality guardrail" in form
    answer = post(admin_client, "/settings/", {
        "business_name": "Shop", "default_country": "US", "timezone": "UTC", "attribution_hours": 72,
        "send_attempts": 5, "opt_out_keywords": "STOP", "guard_first_slice": "y", "guard_slice_percent": 5,
        "guard_slice_max": 200, "guard_opt_out_percent": 2, "guard_failure_percent": 5,
        "guard_failure_codes": "131048, spam"})
    assert answer.status_code in (200, 422)
    assert "“spam” is not an error code" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert WorkspaceSettings.get().guard_first_slice is False


@pytest.mark.only_on("sqlite")  # the rule is in Python; the database only keeps the time
def test_another_event_in_the_same_second_applies_and_the_same_event_again_does_not(app):
    """Meta's times are whole seconds: a restriction in the second of a downgrade was once taken for a duplicate."""
    from datetime import datetime, timezone

    from tests import factories
    from webapp.senders.quality import NumberUpdate, apply_number_updates

    number = factories.sender()
    at = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    downgrade = NumberUpdate("phone_number_quality_update", number.waba_id, "15550001234", "DOWNGRADE", "TIER_250", at)
    restriction = NumberUpdate("account_update", number.waba_id, "", "ACCOUNT_RESTRICTION", "", at)
    assert set(apply_number_updates(db.session, [downgrade])) == {number.id}
    assert apply_number_updates(db.session, [downgrade]) == {}  # the same webhook again
    assert "ACCOUNT_RESTRICTION" in apply_number_updates(db.session, [restriction])[number.id]
    assert number.quality_event == "ACCOUNT_RESTRICTION" and number.messaging_limit == 250

"""Campaign rules shared by the pages and the API."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from webapp.campaigns import services
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import Campaign
from webapp.contacts.models import ContactList
from webapp.extensions import db
from webapp.timestamps import utcnow


def _draft(variables=None):
    sender = factories.sender()
    template = factories.template()
    customers = factories.contact_list("Customers", ["+15550300001"])
    return services.Draft("Offer", sender.id, template.id, [customers.id],
                          variables=variables or {"body:1": {"source": "name", "fallback": "you"},
                                                  "body:2": {"source": "constant", "value": "#1"}})


def test_a_campaign_paused_while_being_prepared_resumes_its_preparation(app):
    campaign = services.save_draft(_draft())
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    app.extensions["redis"].flushdb()  # the launch job waits in the queue; forget it
    services.pause(campaign)
    db.session.commit()
    db.session.refresh(campaign)
    assert campaign.status == "paused"
    services.resume(campaign)
    db.session.commit()
    db.session.refresh(campaign)
    assert campaign.status == "queued"  # back to preparing, not to sending half a snapshot
    from webapp.queues import queue

    assert [job.func_name for job in queue("default").get_jobs()] == ["jobs.campaigns.launch"]


def test_a_launch_starts_its_job_only_when_the_caller_commits_and_never_after_a_rollback(app):
    from webapp.queues import queue

    campaign = services.save_draft(_draft())
    db.session.commit()
    app.extensions["redis"].flushdb()
    services.launch(campaign)
    assert queue("default").get_jobs() == []  # the job would find the campaign still a draft
    db.session.rollback()
    db.session.commit()
    assert queue("default").get_jobs() == []
    assert db.session.get(type(campaign), campaign.id).status == "draft"
    services.launch(campaign)
    db.session.commit()
    assert [job.func_name for job in queue("default").get_jobs()] == ["jobs.campaigns.launch"]


def test_scheduling_checks_the_draft_again(app):
    campaign = services.save_draft(_draft())
    db.session.commit()
    db.session.delete(db.session.scalars(select(ContactList)).one())
    db.session.commit()
    with pytest.raises(CampaignError, match="no longer exists"):
        services.schedule(db.session.get(Campaign, campaign.id), utcnow() + timedelta(hours=1))


def test_constants_that_make_the_message_too_long_are_refused_on_their_field(app):
    draft = _draft({"body:1": {"source": "name", "fallback": "you"},
                    "body:2": {"source": "constant", "value": "x" * 1020}})
    with pytest.raises(CampaignError) as refused:
        services.save_draft(draft)
    assert refused.value.field == "var:body:2"
    assert "132005" in refused.value.message


def test_a_schedule_in_the_past_is_refused(app):
    campaign = services.save_draft(_draft())
    with pytest.raises(CampaignError, match="future"):
        services.schedule(campaign, utcnow() - timedelta(minutes=1))


def _finished_with_unknown(app):
    from webapp.campaigns.lifecycle import add_counts, move
    from webapp.campaigns.models import Recipient

    campaign = factories.campaign(status="partially_sent", phones=["+15550300001", "+15550300002"])
    rows = db.session.scalars(select(Recipient)).all()
    for row in rows:
        row.status = "sending"
        add_counts(db.session, campaign.id, {"pending": -1, "sending": 1})
        add_counts(db.session, campaign.id, move(row, "unknown"))
    db.session.commit()
    return campaign


def test_staff_choose_to_send_unknown_rows_again_and_the_campaign_sends_once_more(app, staff_client):
    from tests.conftest import post
    from webapp.campaigns.lifecycle import counts

    campaign = _finished_with_unknown(app)
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "2 recipients may or may not have received the message" in page
    assert post(staff_client, f"/campaigns/{campaign.id}/unknown/resend").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == "sending"
    assert (counts(db.session, campaign.id)["unknown"], counts(db.session, campaign.id)["pending"]) == (0, 2)


def test_staff_choose_to_count_unknown_rows_as_failed(app, staff_client):
    from tests.conftest import post
    from webapp.campaigns.lifecycle import counts, recount

    campaign = _finished_with_unknown(app)
    assert post(staff_client, f"/campaigns/{campaign.id}/unknown/fail").status_code == 302
    assert counts(db.session, campaign.id)["failed"] == 2
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    assert "may or may not" not in staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

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
    app.extensions["redis"].flushdb()  # the launch job waits in the queue; forget it
    services.pause(campaign)
    db.session.refresh(campaign)
    assert campaign.status == "paused"
    services.resume(campaign)
    db.session.refresh(campaign)
    assert campaign.status == "queued"  # back to preparing, not to sending half a snapshot
    from webapp.queues import queue

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

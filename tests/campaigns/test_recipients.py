"""Recipient rows are written by one rule, whichever audience they come from: a list, a retarget, the API."""
from __future__ import annotations

from sqlalchemy import select, update

from tests import factories
from webapp.api.recipients import add
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

ANA, BEN = "+14155550100", "+14155550101"
VARIABLES = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "attribute", "value": "order"}}


def _rows(campaign_id: int) -> dict[str, tuple[str, str]]:
    return {r.phone: (r.status, r.skip_reason)
            for r in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id))}


def _launched(draft: services.Draft) -> Campaign:
    campaign = services.save_draft(draft)
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    return campaign


def test_an_opted_out_contact_is_skipped_alike_from_a_list_a_retarget_and_the_api(app):
    sender, template = factories.sender(), factories.template()
    customers = factories.contact_list("Customers", [(ANA, "Ana", {"order": "#1"}), (BEN, "Ben", {})])
    earlier = factories.campaign(status="sent", phones=[ANA, BEN], sender=sender)
    for phone in (ANA, BEN):  # both were sent the earlier campaign and it failed
        contact_id = db.session.scalar(select(Contact.id).where(Contact.phone == phone))
        db.session.execute(update(Recipient).where(Recipient.campaign_id == earlier.id, Recipient.phone == phone)
                           .values(contact_id=contact_id, status="failed"))
    db.session.execute(update(Contact).where(Contact.phone == ANA).values(opted_out_at=utcnow()))
    db.session.commit()

    from_list = _launched(services.Draft("Lists", sender.id, template.id, [customers.id], variables=VARIABLES))
    retarget = _launched(services.Draft("Again", sender.id, template.id, [], retarget_campaign_id=earlier.id,
                                        retarget_outcome="failed", variables=VARIABLES))
    by_api = services.save_draft(services.Draft("API", sender.id, template.id, [], variables=VARIABLES, direct=True))
    report = add(db.session, by_api, [ANA, BEN], {}, "US")
    db.session.commit()

    for campaign in (from_list, retarget, by_api):
        assert _rows(campaign.id)[ANA] == ("skipped", "Opted out")
        assert counts(db.session, campaign.id)["skipped"] >= 1
        assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    # A value the audience's data lacks skips the row; the same value missing from a request refuses the recipient.
    assert _rows(from_list.id)[BEN] == _rows(retarget.id)[BEN] == ("skipped", "Missing {{2}} and no fallback")
    assert BEN not in _rows(by_api.id)
    assert report.errors == [{"index": 1, "recipient": BEN, "reason": "no value for {{2}}"}]
    assert report.skipped == [{"index": 0, "recipient": ANA, "reason": "opted out: never sent"}]

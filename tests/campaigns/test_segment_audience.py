"""A segment as a campaign's audience: compose copies its conditions, the launch reads them again if the segment
still exists, a campaign whose segment was deleted keeps its copy and says so, and its recipients can be
retargeted like any campaign's."""
from __future__ import annotations

from sqlalchemy import select, update

from tests import factories
from tests.conftest import post
from webapp.audience import segments
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts import tags
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

PEOPLE = [("+15550100001", "Ana", {"city": "Lyon"}), ("+15550100002", "Ben", {"city": "Lyon"}),
          ("+15550100003", "Cy", {"city": "Paris"}), ("+15550100004", "Dee", {"city": "Lyon"})]
LYON_VIP = {"match": "all", "conditions": [{"field": "attribute", "name": "city", "op": "equals", "value": "Lyon"},
                                           {"field": "tag", "op": "has", "value": "vip"}]}


def _setup():
    sender, template = factories.sender(), factories.template()
    factories.contact_list("Customers", PEOPLE)
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Ben", "Cy"])), ["vip"])
    db.session.execute(update(Contact).where(Contact.name == "Ben").values(opted_out_at=utcnow()))
    segment = segments.create(db.session, "VIPs Lyon", LYON_VIP, None)
    db.session.commit()
    return sender, template, segment


def _form(sender, template, segment, **fields) -> dict:
    return {"name": "Lyon VIP night", "sender": str(sender.id), "template": str(template.id), "audience": "segment",
            "segment": str(segment.id) if segment else "", "var:body:1:source": "name",
            "var:body:2:source": "constant", "var:body:2:value": "#1", **fields}


def _launched(campaign: Campaign) -> list[tuple[str, str]]:
    services.launch(campaign)
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    return sorted(tuple(row) for row in db.session.execute(select(Recipient.phone, Recipient.status)
                                                           .where(Recipient.campaign_id == campaign.id)))


def test_compose_to_a_segment_forecasts_its_contacts_and_the_page_says_its_conditions(staff_client):
    sender, template, segment = _setup()

    preview = post(staff_client, "/campaigns/compose/preview", _form(sender, template, segment)).get_data(as_text=True)
    response = post(staff_client, "/campaigns/new", _form(sender, template, segment))

    assert "Ana" in preview and "Ben" not in preview  # the first recipients' messages: Ben opted out
    assert "opted out" in preview
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.audience == {"segment": {"id": segment.id, "name": "VIPs Lyon", "definition": segment.definition}}
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Segment “VIPs Lyon”: city is “Lyon” and has tag “vip”." in page
    assert services.forecast(campaign).summary.total == 2 and services.forecast(campaign).summary.opted_out == 1


def test_compose_without_a_segment_says_to_choose_one_and_saves_nothing(staff_client):
    sender, template, _ = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, None))

    assert response.status_code == 422
    assert "Choose the segment whose contacts to send to." in response.get_data(as_text=True)
    assert db.session.scalars(select(Campaign)).all() == []


def test_the_launch_reads_the_segment_as_it_is_then(app):
    sender, template, segment = _setup()
    campaign = services.save_draft(services.Draft("Night", sender.id, template.id, [], segment_id=segment.id,
                                                  variables={"body:1": {"source": "name"},
                                                             "body:2": {"source": "constant", "value": "#1"}}))
    segments.update(db.session, segment.id, definition={"conditions": [LYON_VIP["conditions"][0]]})
    db.session.commit()

    rows = _launched(campaign)

    assert rows == [("+15550100001", "pending"), ("+15550100002", "skipped"), ("+15550100004", "pending")]
    assert db.session.get(Campaign, campaign.id).audience["segment"]["definition"]["conditions"] == [
        {"field": "attribute", "name": "city", "type": "text", "op": "equals", "value": "Lyon"}]


def test_a_deleted_segments_campaign_keeps_its_conditions_and_says_so(staff_client):
    sender, template, segment = _setup()
    post(staff_client, "/campaigns/new", _form(sender, template, segment))
    campaign = db.session.scalars(select(Campaign)).one()
    segments.delete(db.session, segment.id)
    db.session.commit()

    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    edit = staff_client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    saved = post(staff_client, f"/campaigns/{campaign.id}/edit", _form(sender, template, segment, name="Renamed"))

    assert "Segment “VIPs Lyon” was deleted; this campaign uses its conditions as they were." in page
    assert "VIPs Lyon (deleted: its conditions as they were)" in edit
    assert saved.status_code == 302
    assert _launched(db.session.get(Campaign, campaign.id)) == [("+15550100001", "pending"),
                                                                ("+15550100002", "skipped")]


def test_a_segments_campaign_is_retargeted_like_any_other(staff_client):
    sender, template, segment = _setup()
    post(staff_client, "/campaigns/new", _form(sender, template, segment))
    campaign = db.session.scalars(select(Campaign)).one()
    _launched(campaign)
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id, Recipient.status == "pending")
                       .values(status="failed", reached=0))
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status="failed"))
    db.session.commit()

    response = post(staff_client, "/campaigns/new", _form(sender, template, None, name="Again", audience="retarget",
                                                          retarget_campaign=str(campaign.id),
                                                          retarget_outcome="failed"))

    again = db.session.get(Campaign, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert _launched(again) == [("+15550100001", "pending")]

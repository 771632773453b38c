"""The frequency cap: a marketing campaign skips, at launch, the contacts who already got N marketing messages in
the last D days, with the reason on their row; utility templates are neither capped nor counted; the compose
forecast counts exactly those launch skips. And the compose page's sending window: set, shown, refused when it
cannot be."""
from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, insert, select

from tests import factories
from tests.conftest import post
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.senders.models import Sender
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

BODY = [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."}]
VARIABLES = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "constant", "value": "#1"}}
PEOPLE = [("+15550100001", "Ana", {}), ("+15550100002", "Ben", {}), ("+15550100003", "Cy", {}),
          ("+15550100004", "Dee", {})]


def _sent_before(template, phones, days_ago: float) -> None:
    """A campaign of `template` that Meta accepted for these numbers `days_ago`."""
    campaign = Campaign(name="Earlier", sender_id=_sender().id,
                        template_id=template.id, status="sent", audience={"lists": []})
    db.session.add(campaign)
    db.session.flush()
    at = utcnow() - timedelta(days=days_ago)
    ids = dict(db.session.execute(select(Contact.phone, Contact.id).where(Contact.phone.in_(phones))).all())
    db.session.execute(insert(Recipient), [{"campaign_id": campaign.id, "contact_id": ids[phone], "phone": phone,
                                            "status": "accepted", "reached": 1, "accepted_at": at} for phone in phones])
    db.session.commit()


def _sender() -> Sender:
    return db.session.scalar(select(Sender).limit(1)) or factories.sender()


def _draft(template, customers, **fields) -> services.Draft:
    return services.Draft("Spring sale", _sender().id, template.id, [customers.id], variables=VARIABLES, **fields)


def test_the_cap_skips_exactly_the_contacts_over_it_and_the_forecast_counted_them(app):
    marketing = factories.template(name="promo", category="MARKETING", components=BODY)
    utility = factories.template(name="receipt", category="UTILITY", components=BODY)
    customers = factories.contact_list("Customers", PEOPLE)
    settings = WorkspaceSettings.get()
    settings.cap_messages, settings.cap_days = 2, 7
    _sent_before(marketing, ["+15550100001", "+15550100002"], days_ago=1)
    _sent_before(marketing, ["+15550100001"], days_ago=6)                    # Ana: 2 in 7 days, capped
    _sent_before(marketing, ["+15550100002"], days_ago=8)                    # Ben: the second is too old
    _sent_before(utility, ["+15550100003"], days_ago=1)
    _sent_before(utility, ["+15550100003"], days_ago=2)                      # Cy: utility messages do not count

    campaign = services.save_draft(_draft(marketing, customers))
    forecast = services.forecast(campaign)
    assert (forecast.summary.capped, forecast.summary.sendable) == (1, 3)
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"

    skipped = db.session.execute(select(Recipient.phone, Recipient.skip_reason).where(
        Recipient.campaign_id == campaign.id, Recipient.status == "skipped")).all()
    assert skipped == [("+15550100001", "Frequency cap: 2 marketing messages in the last 7 days (at most 2)")]

    receipt = services.save_draft(_draft(utility, customers))
    assert services.forecast(receipt).summary.capped == 0  # a utility campaign is never capped


# --- Settings: the cap's bad input ------------------------------------------------------------------

def _workspace(**cap) -> dict:
    return {"business_name": "Shop", "default_country": "US", "timezone": "UTC", "attribution_hours": "72",
            "send_attempts": "5", "opt_out_keywords": "STOP", **cap}


@pytest.mark.only_on("sqlite")
@pytest.mark.parametrize(("cap", "words"), [
    ({"cap_messages": "0", "cap_days": "7"}, "At least 1 message"),
    ({"cap_messages": "3", "cap_days": "0"}, "Between 1 and 90 days."),
    ({"cap_messages": "3", "cap_days": "91"}, "Between 1 and 90 days."),
    ({"cap_messages": "three", "cap_days": "7"}, "Not a valid integer value."),
    ({"cap_messages": "3", "cap_days": ""}, "Give both the number of messages and the days"),
])
def test_a_cap_that_cannot_be_is_refused_and_nothing_is_saved(admin_client, cap, words):
    response = post(admin_client, "/settings/", _workspace(**cap))
    assert response.status_code == 200 and words in response.get_data(as_text=True)
    db.session.expire_all()
    assert (WorkspaceSettings.get().cap_messages, WorkspaceSettings.get().business_name) == (None, "My business")


@pytest.mark.only_on("sqlite")
def test_an_admin_sets_the_cap_and_clears_it(admin_client):
    assert post(admin_client, "/settings/", _workspace(cap_messages="3", cap_days="7")).status_code == 302
    db.session.expire_all()
    assert (WorkspaceSettings.get().cap_messages, WorkspaceSettings.get().cap_days) == (3, 7)
    assert post(admin_client, "/settings/", _workspace(cap_messages="", cap_days="")).status_code == 302
    db.session.expire_all()
    assert WorkspaceSettings.get().cap_messages is None


# --- Compose: the window ----------------------------------------------------------------------------

def _compose(sender, template, customers, **fields) -> dict:
    return {"name": "Spring sale", "sender": str(sender.id), "template": str(template.id), "audience": "lists",
            "lists": [str(customers.id)], "var:body:1:source": "name", "var:body:1:fallback": "friend",
            "var:body:2:source": "constant", "var:body:2:value": "#1", **fields}


@pytest.mark.only_on("sqlite")
@pytest.mark.parametrize(("opens", "closes", "words"), [
    ("09:00", "09:00", "The window opens and closes at 09:00"),
    ("9 in the morning", "20:00", "is not a time: write it as HH:MM"),
])
def test_compose_refuses_a_window_that_cannot_be_and_saves_nothing(staff_client, opens, closes, words):
    sender, template = factories.sender(), factories.template()
    customers = factories.contact_list("Customers", PEOPLE)
    response = post(staff_client, "/campaigns/new", _compose(sender, template, customers, window_opens=opens,
                                                              window_closes=closes))
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.only_on("sqlite")
def test_compose_saves_the_window_the_page_shows_it_and_the_forecast_says_where_recipients_are(staff_client):
    sender, template = factories.sender(), factories.template()
    customers = factories.contact_list("Customers", [("+61412345678", "Kylie", {}), ("+61412345679", "Bruce", {}),
                                                     ("+882345678901", "Sat", {})])
    response = post(staff_client, "/campaigns/new", _compose(sender, template, customers, window_opens="20:00",
                                                              window_closes="08:00"))
    assert response.status_code == 302
    page = unescape(staff_client.get(response.location).get_data(as_text=True))
    assert "Sending window</dt><dd>20:00–08:00, recipients' time" in page
    assert "Australia has 8 time zones: 2 recipients get Australia/Adelaide's hours" in page
    assert "1 number has no time-zone data (non-geographic): they get the workspace's hours (UTC)" in page

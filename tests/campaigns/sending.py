"""Campaigns launched and sent the way the product does it, against the sandbox fixtures of conftest.py."""
from __future__ import annotations

from sqlalchemy import select, update

from jobs.campaigns import dispatcher
from tests import factories
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.senders.models import Template
from webapp.timestamps import utcnow

VARIABLES = {"body:1": {"source": "name", "fallback": "friend"},
             "body:2": {"source": "attribute", "value": "order"},
             "body:3": {"source": "constant", "value": "Friday"}}


def launch(sender, people, variables=VARIABLES, template="order_shipped", opted_out=(), name="Autumn",
           list_name="Customers", language=None, button_payloads=None, window=("", "")):
    """A campaign of `template` to a new list of `people` ((phone, name, attributes) tuples), snapshotted;
    `window`: its sending window's ("09:00", "20:00")."""
    customers = factories.contact_list(list_name, people)
    db.session.execute(update(Contact).where(Contact.phone.in_(opted_out)).values(opted_out_at=utcnow()))
    chosen = db.session.scalar(select(Template).where(Template.name == template,
                                                      Template.language == (language or Template.language)))
    campaign = services.save_draft(services.Draft(name, sender.id, chosen.id, [customers.id], variables=variables,
                                                  button_payloads=button_payloads, window_opens=window[0],
                                                  window_closes=window[1]))
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    return campaign


def send_all(campaign_id):
    """Run the campaign's dispatcher until it is done or stops; return the campaign as it is then."""
    for _ in range(20):
        if dispatcher(campaign_id).run() in ("done", "stopped", "waiting"):
            break
    return db.session.get(Campaign, campaign_id, populate_existing=True)


def rows_by_phone(campaign_id) -> dict[str, Recipient]:
    db.session.expire_all()
    return {row.phone: row for row in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id))}

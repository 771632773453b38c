"""Meta's per-user marketing limit (131049) holds the contact for 24 hours: marketing campaigns defer their row
for that contact until the hold ends, utility campaigns do not; against the real sandbox over HTTP."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from jobs.campaigns import dispatcher
from tests import factories
from tests.campaigns.sending import launch, rows_by_phone, send_all
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.marketing_holds import hold
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

PEOPLE = [(f"+1555040{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(3)]
HELD = PEOPLE[0][0]
CART = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "constant", "value": "a shirt"},
        "button:0": {"source": "constant", "value": "abc123"}}


def _marketing(sender, name="Promo"):
    return launch(sender, PEOPLE, variables=CART, template="cart_reminder", name=name, list_name=name)


def _held_and_launched(sender):
    """A marketing campaign launched while Meta's limit holds the first contact (held by an earlier campaign)."""
    factories.contact_list("Earlier", PEOPLE)
    hold(db.session, HELD, utcnow() + timedelta(hours=24))
    db.session.commit()
    return _marketing(sender)


def _hold_until(phone):
    db.session.expire_all()
    return db.session.scalar(select(Contact.marketing_hold_until).where(Contact.phone == phone))


def test_131049_in_a_send_answer_fails_the_row_and_holds_the_contact_for_24_hours(app, sandbox, sandbox_sender):
    campaign = _marketing(sandbox_sender)
    sandbox.fault(code=131049, status=400, count=1)  # the first request (the canary) meets the limit
    before = utcnow()

    campaign = send_all(campaign.id)

    row = rows_by_phone(campaign.id)[HELD]
    assert (row.status, row.error_code) == ("failed", 131049)
    assert before + timedelta(hours=24) <= _hold_until(HELD) <= utcnow() + timedelta(hours=24)
    assert _hold_until(PEOPLE[1][0]) is None


def test_a_held_contact_waits_in_a_marketing_campaign_and_is_sent_when_the_hold_ends(app, sandbox, sandbox_sender,
                                                                                      staff_client):
    campaign = _held_and_launched(sandbox_sender)

    assert dispatcher(campaign.id).run() == "waiting"

    campaign = db.session.get(Campaign, campaign.id, populate_existing=True)
    assert campaign.status == "sending" and campaign.completed_at is None and campaign.waiting_until
    assert "per-user marketing limit" in campaign.notice
    row = rows_by_phone(campaign.id)[HELD]
    assert (row.status, row.error_code) == ("pending", 131049)
    assert "per-user marketing limit" in row.error_title
    assert row.next_attempt_at == _hold_until(HELD)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(p[0] for p in PEOPLE[1:])
    assert "per-user marketing limit" in staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    # The 24 hours pass.
    db.session.execute(update(Contact).where(Contact.phone == HELD).values(marketing_hold_until=utcnow()))
    db.session.execute(update(Recipient).where(Recipient.id == row.id).values(next_attempt_at=utcnow()))
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(waiting_until=None, notice=""))
    db.session.commit()
    campaign = send_all(campaign.id)

    assert campaign.status == "sent"
    row = rows_by_phone(campaign.id)[HELD]
    assert row.wamid and row.error_code is None
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(p[0] for p in PEOPLE)


def test_a_held_contact_still_gets_a_utility_template(app, sandbox, sandbox_sender):
    factories.contact_list("Earlier", PEOPLE)
    hold(db.session, HELD, utcnow() + timedelta(hours=24))
    db.session.commit()
    campaign = launch(sandbox_sender, PEOPLE)  # order_shipped: UTILITY

    assert send_all(campaign.id).status == "sent"
    assert HELD in [m["to"] for m in sandbox.messages()]


def test_a_held_row_is_skipped_with_a_reason_when_its_campaign_is_cancelled(app, sandbox, sandbox_sender):
    campaign = _held_and_launched(sandbox_sender)
    dispatcher(campaign.id).run()

    services.cancel(db.session.get(Campaign, campaign.id))
    db.session.commit()

    row = rows_by_phone(campaign.id)[HELD]
    assert row.status == "skipped"
    assert "per-user marketing limit" in row.skip_reason


"""The number Meta reports is not always the number we sent to: a Brazilian mobile's WhatsApp id lacks its ninth
digit. Sent through the real sandbox, which answers as Meta does; the customer's webhooks then come from the wa_id,
and whatever form a STOP, a reply or a marketing stop comes in, it reaches the contact we know."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.campaigns import dispatcher
from tests import factories
from tests.conftest import post
from tests.webhooks import meta
from tests.webhooks.scenarios import configure_webhook
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.contacts.optouts import STOPPED_MARKETING
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import utcnow
from webapp.webhooks.models import InboundMessage

PHONE = "+5511987654321"  # the number in the list, as staff imported it
WA_ID = "551187654321"    # the WhatsApp id Meta (and the sandbox) reports for it
VARIABLES = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "constant", "value": "#7"},
             "body:3": {"source": "constant", "value": "Friday"}}


def _send(campaign_id: int) -> None:
    for _ in range(10):
        if dispatcher(campaign_id).run() in ("done", "stopped"):
            return


def _campaign_to(customers, name: str) -> Campaign:
    """A campaign to a list from the sandbox's number, launched and sent through the sandbox."""
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    sender_id = db.session.scalar(select(Sender.id))
    campaign = services.save_draft(services.Draft(name, sender_id, template.id, [customers.id],
                                                  variables=VARIABLES))
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    _send(campaign.id)
    return campaign


def _rows(campaign: Campaign) -> dict[str, Recipient]:
    db.session.expire_all()
    return {row.phone: row for row in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id))}


def _contacts() -> dict[str, Contact]:
    db.session.expire_all()
    return {contact.phone: contact for contact in db.session.scalars(select(Contact))}


@pytest.fixture
def customers(app, sandbox, sandbox_sender):
    configure_webhook()
    return factories.contact_list("Customers", [(PHONE, "Ana", {}), ("+15550300001", "Ben", {})])


@pytest.fixture
def first(customers):
    """The first campaign to the list, sent: Meta's answer named the Brazilian customer by the wa_id."""
    return _campaign_to(customers, "First")


def test_the_wa_id_meta_answers_with_is_kept_on_the_row_and_the_contact(first, sandbox):
    rows, contacts = _rows(first), _contacts()
    assert [m["wa_id"] for m in sandbox.messages(to=PHONE)] == [WA_ID]
    assert (rows[PHONE].status, rows[PHONE].wa_id, contacts[PHONE].wa_id) == ("accepted", WA_ID, WA_ID)
    # A number Meta reports as it was sent keeps one form.
    assert (rows["+15550300001"].wa_id, contacts["+15550300001"].wa_id) == (None, None)


def test_the_log_export_shows_the_wa_id_beside_the_number(first, staff_client):
    lines = staff_client.get(f"/campaigns/{first.id}/log.csv", buffered=True).get_data(as_text=True).splitlines()
    header = lines[0].lstrip("\ufeff").split(",")
    by_phone = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert header[:2] == ["Phone", "WhatsApp ID"]
    assert (by_phone[PHONE][1], by_phone["+15550300001"][1]) == (WA_ID, "")


def test_a_stop_from_the_wa_id_opts_the_list_contact_out_and_the_next_campaign_skips_it(client, customers, first,
                                                                                       sandbox):
    at = utcnow() + timedelta(seconds=5)
    meta.post(client, meta.message("wamid.STOP1", WA_ID, at, "STOP", name="Ana Souza"))
    contacts = _contacts()
    assert set(contacts) == {PHONE, "+15550300001"}  # no second contact for the wa_id's form
    assert (contacts[PHONE].opted_out, contacts[PHONE].opt_out_reason) == (True, "STOP")
    [stop] = db.session.scalars(select(InboundMessage))
    assert (stop.contact_id, stop.recipient_id, stop.is_opt_out) == (contacts[PHONE].id, _rows(first)[PHONE].id, True)

    second = _campaign_to(customers, "Second")
    rows = _rows(second)
    assert (rows[PHONE].status, rows[PHONE].skip_reason) == ("skipped", "Opted out")
    assert rows["+15550300001"].status == "accepted"
    assert len(sandbox.messages(to=PHONE)) == 1  # never messaged again


def test_a_reply_without_context_from_the_wa_id_is_the_reply_to_our_message(client, first):
    meta.post(client, meta.message("wamid.IN1", WA_ID, utcnow() + timedelta(seconds=5), "Chega amanhã?"))
    row = _rows(first)[PHONE]
    assert (row.status, row.reply_text) == ("replied", "Chega amanhã?")
    [message] = db.session.scalars(select(InboundMessage))
    assert (message.recipient_id, message.campaign_id, message.contact_id) == (row.id, first.id, _contacts()[PHONE].id)


def test_a_marketing_stop_and_resume_from_the_wa_id_reach_the_list_contact(client, customers, first):
    at = utcnow()
    meta.post(client, meta.preference(WA_ID, "stop", at))
    contacts = _contacts()
    assert set(contacts) == {PHONE, "+15550300001"}
    assert (contacts[PHONE].opted_out, contacts[PHONE].opt_out_reason) == (True, STOPPED_MARKETING)

    meta.post(client, meta.preference(WA_ID, "resume", at + timedelta(minutes=1)))
    assert not _contacts()[PHONE].opted_out


def test_a_stop_before_we_knew_the_wa_id_still_keeps_the_contact_out_once_meta_names_it(client, customers, sandbox):
    meta.post(client, meta.message("wamid.STOP0", WA_ID, utcnow(), "STOP"))  # before any campaign: a stranger
    first = _campaign_to(customers, "First")  # Meta's answer tells us the stranger is our contact
    assert _contacts()[PHONE].opted_out
    second = _campaign_to(customers, "Second")
    assert _rows(second)[PHONE].skip_reason == "Opted out"
    assert len(sandbox.messages(to=PHONE)) == 1 and _rows(first)[PHONE].status == "accepted"


def _numbers_campaign(sender) -> Campaign:
    """A campaign to a number that is no contact (as the API adds them), sent through the sandbox."""
    campaign = factories.campaign(phones=[PHONE], sender=sender)
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(template_name="order_shipped"))
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id)
                       .values(params={"body": ["Ana", "#7", "Friday"]}))
    db.session.commit()
    _send(campaign.id)
    return campaign


def test_a_stop_from_the_wa_id_of_a_number_that_is_no_contact_records_the_number_we_send_to(client, sandbox,
                                                                                             sandbox_sender):
    configure_webhook()
    _numbers_campaign(sandbox_sender)
    meta.post(client, meta.message("wamid.STOP1", WA_ID, utcnow() + timedelta(seconds=5), "STOP"))
    [contact] = _contacts().values()
    assert (contact.phone, contact.wa_id, contact.opted_out) == (PHONE, WA_ID, True)


def test_a_stop_before_we_knew_the_wa_id_of_a_number_that_is_no_contact_opts_out_the_number_we_send_to(
        client, sandbox, sandbox_sender):
    configure_webhook()
    meta.post(client, meta.message("wamid.STOP0", WA_ID, utcnow(), "STOP"))
    _numbers_campaign(sandbox_sender)
    contacts = _contacts()
    assert (contacts[PHONE].wa_id, contacts[PHONE].opted_out, contacts[PHONE].opt_out_reason) == (WA_ID, True, "STOP")


def test_an_admin_who_opts_the_contact_back_in_opts_in_both_forms(client, admin_client, customers, sandbox):
    meta.post(client, meta.message("wamid.STOP0", WA_ID, utcnow(), "STOP"))  # a stranger, then known as Ana
    _campaign_to(customers, "First")
    assert post(admin_client, f"/contacts/{_contacts()[PHONE].id}/opt-in").status_code == 302
    assert not any(contact.opted_out for contact in _contacts().values())
    second = _campaign_to(customers, "Second")  # Meta names her again: she stays opted in
    assert (_rows(second)[PHONE].status, len(sandbox.messages(to=PHONE))) == ("accepted", 2)

"""Replies are linked to the campaign message they answer, counted once, and STOPs opt the contact out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, configure_webhook, fresh, wa_id, wamid
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact, ListMember
from webapp.contacts.optouts import STOPPED_MARKETING
from webapp.extensions import db
from webapp.webhooks.models import InboundMessage


def _sent(client, rows, at=T0):
    for row in rows:
        meta.post(client, meta.statuses(meta.status(wamid(row), "sent", at, wa_id(row), row_id=row.id)))


def _inbound():
    db.session.expire_all()
    return list(db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_a_reply_quoting_our_message_is_linked_by_its_context(client, webhook):
    older, [first] = accepted_campaign(1)
    newer, [second] = accepted_campaign(1, sender=older.sender)  # same phone, a later campaign
    _sent(client, [first, second])
    meta.post(client, meta.message("wamid.IN1", wa_id(first), T0 + timedelta(minutes=5), "Is it still on?",
                                   context=wamid(first)))
    [message] = _inbound()
    assert (message.recipient_id, message.campaign_id, message.context_wamid) == (first.id, older.id, wamid(first))
    first = fresh(Recipient, first.id)
    assert (first.status, first.replied_at, first.reply_text) == ("replied", T0 + timedelta(minutes=5),
                                                                  "Is it still on?")
    assert fresh(Recipient, second.id).status == "sent"
    assert counts(db.session, older.id)["replied"] == 1 == recount(db.session, older.id)["replied"]


def test_a_reply_without_context_goes_to_the_latest_message_within_the_attribution_window(client, webhook):
    older, [first] = accepted_campaign(1)
    newer, [second] = accepted_campaign(1, sender=older.sender)
    _sent(client, [first], at=T0)
    _sent(client, [second], at=T0 + timedelta(hours=2))
    meta.post(client, meta.message("wamid.IN1", wa_id(first), T0 + timedelta(hours=3), "Thanks!"))
    [message] = _inbound()
    assert (message.recipient_id, message.campaign_id) == (second.id, newer.id)
    assert fresh(Recipient, second.id).status == "replied"
    assert fresh(Recipient, first.id).status == "sent"


def test_a_reply_after_the_attribution_window_is_stored_but_answers_no_campaign(client, webhook):
    configure_webhook(attribution_hours=24)
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(hours=25), "Hello?"))
    [message] = _inbound()
    assert (message.recipient_id, message.campaign_id, message.text) == (None, None, "Hello?")
    assert fresh(Recipient, row.id).status == "sent"
    assert counts(db.session, campaign.id)["replied"] == 0


def test_a_row_counts_as_replied_once_and_keeps_the_latest_reply(client, webhook):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN2", wa_id(row), T0 + timedelta(minutes=9), "second"))
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=2), "first"))  # arrives late
    meta.post(client, meta.message("wamid.IN2", wa_id(row), T0 + timedelta(minutes=9), "second"))  # duplicate
    row = fresh(Recipient, row.id)
    assert (row.replied_at, row.reply_text) == (T0 + timedelta(minutes=2), "second")
    assert len(_inbound()) == 2
    assert counts(db.session, campaign.id)["replied"] == 1 == recount(db.session, campaign.id)["replied"]


def test_a_quick_reply_button_press_keeps_the_button_text(client, webhook):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=1), context=wamid(row),
                                   button=("Show me the offer", "SHOW_OFFER")))
    row = fresh(Recipient, row.id)
    assert (row.status, row.reply_button, row.reply_text) == ("replied", "Show me the offer", "Show me the offer")
    [message] = _inbound()
    assert (message.type, message.button_payload) == ("button", "SHOW_OFFER")


def test_an_interactive_button_reply_keeps_its_title(client, webhook):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    payload = meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=1), "x", context=wamid(row))
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del item["text"]
    item.update(type="interactive", interactive={"type": "button_reply", "button_reply": {"id": "yes-1", "title": "Yes"}})
    meta.post(client, payload)
    assert fresh(Recipient, row.id).reply_button == "Yes"


@pytest.mark.parametrize("text", ["STOP", "stop", "  parar ", "Unsubscribe\n", "BERHENTI", "إيقاف"])
def test_an_opt_out_keyword_opts_the_contact_out(client, webhook, text):
    campaign, [row] = accepted_campaign(1)
    contact = Contact(phone=row.phone, name="Ana")
    db.session.add(contact)
    db.session.commit()
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=3), text))
    contact = fresh(Contact, contact.id)
    assert contact.opted_out_at == T0 + timedelta(minutes=3)
    assert contact.opt_out_reason == text.strip()
    [message] = _inbound()
    assert message.is_opt_out and message.contact_id == contact.id
    assert fresh(Recipient, row.id).status == "replied"  # a STOP is a reply too


def test_an_opt_in_keyword_after_a_stop_opts_the_contact_back_in_but_not_one_written_before_it(client, webhook):
    from webapp.contacts.optouts import history

    factories.sender()
    contact = Contact(phone="+15550000001", name="Ana")
    db.session.add(contact)
    db.session.commit()
    meta.post(client, meta.message("wamid.IN1", "15550000001", T0, "STOP"))
    meta.post(client, meta.message("wamid.IN0", "15550000001", T0 - timedelta(minutes=1), "start"))  # came late
    assert fresh(Contact, contact.id).opted_out_at == T0

    meta.post(client, meta.message("wamid.IN2", "15550000001", T0 + timedelta(days=2), "  Start "))
    assert (fresh(Contact, contact.id).opted_out_at, fresh(Contact, contact.id).opt_out_reason) == (None, "")
    assert [(event.kind, event.reason) for event in history(db.session, contact.id)] == [
        ("opted_in", "Wrote “Start”"), ("opted_out", "STOP")]


def test_an_opt_in_keyword_leaves_metas_marketing_stop_which_only_the_customer_can_lift_in_whatsapp(client, webhook):
    factories.sender()
    meta.post(client, meta.preference("15550000001", "stop", T0))
    meta.post(client, meta.message("wamid.IN1", "15550000001", T0 + timedelta(minutes=1), "START"))
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+15550000001"))
    assert (contact.opted_out_at, contact.opt_out_reason) == (T0, STOPPED_MARKETING)


@pytest.mark.parametrize(("label", "payload"), [
    ("Stop promotions", "Stop promotions"), ("Parar promociones", "Parar promociones"), ("Stop", "Stop"),
    ("Darse de baja", "Darse de baja"), ("Cancelar suscripción", "Cancelar suscripción"),
    ("No más promociones", "No más promociones"), ("Not for me", "UNSUBSCRIBE"), ("Enough", "STOP_PROMOTIONS"),
], ids=["stop-promotions", "parar-promociones", "stop", "darse-de-baja", "cancelar-suscripcion",
        "no-mas-promociones", "payload-unsubscribe", "payload-stop-promotions"])
def test_a_tap_on_a_stop_button_opts_the_contact_out_like_stop(client, webhook, label, payload):
    campaign, [row] = accepted_campaign(1)
    contact = Contact(phone=row.phone, name="Ana")
    db.session.add(contact)
    db.session.commit()
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=3), context=wamid(row),
                                   button=(label, payload)))
    contact = fresh(Contact, contact.id)
    assert contact.opted_out_at == T0 + timedelta(minutes=3)
    assert contact.opt_out_reason == f"Tapped the “{label}” button"
    [message] = _inbound()
    assert message.is_opt_out and message.contact_id == contact.id
    row = fresh(Recipient, row.id)
    assert (row.status, row.reply_button) == ("replied", label)  # the tap is the reply, as its button reads


def test_a_tap_on_another_button_does_not_opt_out(client, webhook):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=3), context=wamid(row),
                                   button=("Yes please", "Yes please")))
    assert not _inbound()[0].is_opt_out
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.opted_out_at.is_not(None))) == 0


@pytest.mark.parametrize("text", ["Please don't stop sending offers", "stopped", "STOP STOP"])
def test_a_message_that_only_mentions_a_keyword_does_not_opt_out(client, webhook, text):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=3), text))
    assert not _inbound()[0].is_opt_out
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.opted_out_at.is_not(None))) == 0


def test_a_stop_from_a_number_we_never_imported_still_records_the_opt_out(client, webhook):
    campaign, rows = accepted_campaign(1)  # the sender must exist for the webhook to be ours
    meta.post(client, meta.message("wamid.IN1", "447700900123", T0, "STOP", name="Stranger"))
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+447700900123"))
    assert contact is not None and contact.opted_out and contact.name == "Stranger"


def test_custom_opt_out_keywords_from_settings_are_used(client, webhook):
    configure_webhook(opt_out_keywords="no more, basta")
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    meta.post(client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=1), "No  More"))
    meta.post(client, meta.message("wamid.IN2", wa_id(row), T0 + timedelta(minutes=2), "STOP"))
    assert [m.is_opt_out for m in _inbound()] == [True, False]


def test_a_marketing_stop_and_resume_from_user_preferences(client, webhook):
    campaign, [row] = accepted_campaign(1)
    contact = Contact(phone=row.phone, name="Ana")
    db.session.add(contact)
    db.session.commit()

    meta.post(client, meta.preference(wa_id(row), "stop", T0))
    contact = fresh(Contact, contact.id)
    assert (contact.opted_out_at, contact.opt_out_reason) == (T0, STOPPED_MARKETING)

    meta.post(client, meta.preference(wa_id(row), "resume", T0 - timedelta(minutes=1)))  # older: changes nothing
    assert fresh(Contact, contact.id).opted_out

    meta.post(client, meta.preference(wa_id(row), "resume", T0 + timedelta(minutes=1)))
    contact = fresh(Contact, contact.id)
    assert (contact.opted_out_at, contact.opt_out_reason) == (None, "")


def _changed_number(client, old: str, new: str, at=T0 + timedelta(minutes=1)):
    """WhatsApp's notice that a customer changed number, as Meta sends it (no contacts array)."""
    payload = meta.message("wamid.SYS1", old, at, "x")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    item = value["messages"][0]
    del item["text"]
    item.update(type="system", system={"body": f"User Ana changed from {old} to {new}", "wa_id": new,
                                       "type": "user_changed_number"})
    assert meta.post(client, payload).status_code == 200


def test_a_customer_who_changed_number_keeps_their_contact_lists_and_opt_out_under_the_new_one(client, webhook):
    campaign, [row] = accepted_campaign(1)
    _sent(client, [row])
    customers = factories.contact_list("Regulars", [(row.phone, "Ana", {"city": "Lyon"})])
    db.session.execute(update(Contact).values(opted_out_at=T0))
    db.session.commit()

    _changed_number(client, wa_id(row), "15550009999")

    db.session.expire_all()
    [contact] = db.session.scalars(select(Contact)).all()
    assert (contact.phone, contact.name, contact.opted_out_at is not None) == ("+15550009999", "Ana", True)
    assert db.session.scalars(select(ListMember.list_id).where(ListMember.contact_id == contact.id)).all() == [
        customers.id]
    assert fresh(Recipient, row.id).status == "sent"  # WhatsApp's notice is no reply to the campaign
    assert counts(db.session, campaign.id).get("replied", 0) == 0
    assert _inbound()[0].text == f"User Ana changed from {wa_id(row)} to 15550009999"


def test_a_new_number_that_is_already_a_contact_moves_nothing(client, webhook):
    factories.sender()  # the number the notice comes to
    factories.contact_list("Regulars", [("+15550000001", "Ana", {}), ("+15550009999", "Someone else", {})])

    _changed_number(client, "15550000001", "15550009999")

    db.session.expire_all()
    assert sorted(db.session.scalars(select(Contact.phone))) == ["+15550000001", "+15550009999"]
    assert db.session.scalar(select(Contact).where(Contact.phone == "+15550009999")).opted_out_at is None
    assert _inbound()[0].text == "User Ana changed from 15550000001 to 15550009999"  # the notice was applied


def test_an_opt_out_follows_the_customer_to_a_new_number_that_is_already_a_contact(client, webhook):
    factories.sender()
    factories.contact_list("Regulars", [("+15550000001", "Ana", {}), ("+15550009999", "Ana (work)", {})])
    db.session.execute(update(Contact).where(Contact.phone == "+15550000001")
                       .values(opted_out_at=T0, opt_out_reason="STOP"))
    db.session.commit()

    _changed_number(client, "15550000001", "15550009999")

    db.session.expire_all()
    moved_to = db.session.scalar(select(Contact).where(Contact.phone == "+15550009999"))
    assert (moved_to.name, moved_to.opted_out_at, moved_to.opt_out_reason) == ("Ana (work)", T0, "STOP")

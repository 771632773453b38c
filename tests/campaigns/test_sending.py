"""Sending against the sandbox: every number once, at the rate, with Meta's errors handled by code."""
from __future__ import annotations

from sqlalchemy import select

from jobs.campaigns import dispatcher
from tests import factories
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import resolve
from webapp.cloudapi import template_message
from webapp.extensions import db
from webapp.senders.models import Template

VARIABLES = {"body:1": {"source": "name", "fallback": "friend"},
             "body:2": {"source": "attribute", "value": "order"},
             "body:3": {"source": "constant", "value": "Friday"}}


def _launch(sender, people, variables=VARIABLES, template="order_shipped", opted_out=(), language=None,
            button_payloads=None):
    from webapp.contacts.models import Contact
    from webapp.timestamps import utcnow

    customers = factories.contact_list("Customers", people)
    db.session.execute(db.update(Contact).where(Contact.phone.in_(opted_out)).values(opted_out_at=utcnow()))
    chosen = db.session.scalar(select(Template).where(Template.name == template,
                                                      Template.language == (language or Template.language)))
    campaign = services.save_draft(services.Draft("Autumn", sender.id, chosen.id, [customers.id],
                                                  variables=variables, button_payloads=button_payloads))
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    return campaign


def _send_all(campaign_id):
    for _ in range(20):
        if dispatcher(campaign_id).run() in ("done", "stopped"):
            break
    return db.session.get(Campaign, campaign_id, populate_existing=True)


def test_every_number_gets_its_own_message_exactly_once(app, sandbox, sandbox_sender):
    people = [(f"+1555010{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(120)]
    campaign = _send_all(_launch(sandbox_sender, people).id)

    assert campaign.status == "sent"
    ledger = sandbox.messages(limit=1000)
    assert sorted(m["to"] for m in ledger) == sorted(p[0] for p in people)
    by_phone = {m["to"]: m for m in ledger}
    assert "Hi Customer 7, your order #7 has shipped" in by_phone["+15550100007"]["text"]
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    assert counts(db.session, campaign.id)["sent"] == 120
    assert sandbox.stats()["rate_limited"] == 0


def test_each_quick_reply_button_is_sent_with_its_payload_in_metas_shape():
    components = [{"type": "BODY", "text": "Hi {{1}}, 20% off all week."},
                  {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes please"},
                                                  {"type": "QUICK_REPLY", "text": "Stop promotions"}]}]
    params = resolve(components, "POSITIONAL", {"body:1": {"source": "name"}}, "", "Ana",
                     button_payloads={"1": "STOP_PROMOS"}).params

    sent = template_message("+15550300001", "promo", "en", params)["template"]["components"]

    assert sent == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "Yes please"}]},  # no payload chosen: the button's text
        {"type": "button", "sub_type": "quick_reply", "index": "1",
         "parameters": [{"type": "payload", "payload": "STOP_PROMOS"}]},
    ]


def test_a_campaign_with_quick_replies_reaches_the_sandbox_with_the_chosen_payloads(app, sandbox, sandbox_sender):
    variables = {"header": {"source": "constant", "value": "spring"}, "body:first_name": {"source": "name"},
                 "body:discount": {"source": "constant", "value": "20%"},
                 "body:end_date": {"source": "constant", "value": "Sunday"}}
    campaign = _launch(sandbox_sender, [("+15550300001", "Ana", {})], variables, template="seasonal_promo",
                       language="en", button_payloads={"1": "STOP_PROMOS"})

    assert _send_all(campaign.id).status == "sent"
    [message] = sandbox.messages()
    assert message["parameters"]["buttons"] == [{"index": 0, "sub_type": "quick_reply", "payload": "Yes please"},
                                                {"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}]


def test_missing_variables_and_opted_out_contacts_are_skipped_with_a_reason(app, sandbox, sandbox_sender):
    people = [("+15550200001", "Ana", {"order": "#1"}), ("+15550200002", "Ben", {}),
              ("+15550200003", "Cy", {"order": "#3"})]
    campaign = _send_all(_launch(sandbox_sender, people, opted_out=["+15550200003"]).id)
    rows = {r.phone: r for r in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id))}
    assert rows["+15550200001"].status == "sent"
    assert rows["+15550200002"].status == "skipped"
    assert "Missing {{2}}" in rows["+15550200002"].skip_reason
    assert (rows["+15550200003"].status, rows["+15550200003"].skip_reason) == ("skipped", "Opted out")
    assert [m["to"] for m in sandbox.messages()] == ["+15550200001"]

"""Sending against the sandbox: every number once, at the rate, with Meta's errors handled by code."""
from __future__ import annotations

import re

from tests.api.conftest import ApiClient, make_key
from tests.campaigns.sending import launch, rows_by_phone, send_all
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, configure_webhook, wa_id
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.variables import resolve
from webapp.cloudapi import template_message
from webapp.extensions import db


def test_every_number_gets_its_own_message_exactly_once(app, sandbox, sandbox_sender):
    people = [(f"+1555010{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(120)]
    campaign = send_all(launch(sandbox_sender, people).id)

    assert campaign.status == "sent"
    ledger = sandbox.messages(limit=1000)
    assert sorted(m["to"] for m in ledger) == sorted(p[0] for p in people)
    by_phone = {m["to"]: m for m in ledger}
    assert "Hi Customer 7, your order #7 has shipped" in by_phone["+15550100007"]["text"]
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    assert counts(db.session, campaign.id)["accepted"] == 120
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
    campaign = launch(sandbox_sender, [("+15550300001", "Ana", {})], variables, template="seasonal_promo",
                       language="en", button_payloads={"1": "STOP_PROMOS"})

    assert send_all(campaign.id).status == "sent"
    [message] = sandbox.messages()
    assert message["parameters"]["buttons"] == [{"index": 0, "sub_type": "quick_reply", "payload": "Yes please"},
                                                {"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}]


def test_missing_variables_and_opted_out_contacts_are_skipped_with_a_reason(app, sandbox, sandbox_sender):
    people = [("+15550200001", "Ana", {"order": "#1"}), ("+15550200002", "Ben", {}),
              ("+15550200003", "Cy", {"order": "#3"})]
    campaign = send_all(launch(sandbox_sender, people, opted_out=["+15550200003"]).id)
    rows = rows_by_phone(campaign.id)
    assert rows["+15550200001"].status == "accepted"
    assert rows["+15550200002"].status == "skipped"
    assert "Missing {{2}}" in rows["+15550200002"].skip_reason
    assert (rows["+15550200003"].status, rows["+15550200003"].skip_reason) == ("skipped", "Opted out")
    assert [m["to"] for m in sandbox.messages()] == ["+15550200001"]


def test_a_message_meta_fails_after_accepting_it_is_accepted_and_failed_never_sent(app, sandbox, sandbox_sender,
                                                                                  staff_client, client):
    configure_webhook()
    people = [(f"+1555060{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(5)]
    campaign = send_all(launch(sandbox_sender, people).id)
    rows = sorted(rows_by_phone(campaign.id).values(), key=lambda row: row.id)
    assert {row.status for row in rows} == {"accepted"}  # the API took them; Meta has said nothing yet

    for row in rows[:4]:
        meta.post(staff_client, meta.statuses(meta.status(row.wamid, "sent", T0, wa_id(row), row_id=row.id)))
    meta.post(staff_client, meta.statuses(meta.status(rows[4].wamid, "failed", T0, wa_id(rows[4]), row_id=rows[4].id,
                                                      error=(131026, "Message undeliverable", ""))))

    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    shown = dict(re.findall(r'<div class="label">(\w+)</div>\s*<div class="value">([\d,]+)</div>', html))
    assert (shown["Accepted"], shown["Sent"], shown["Failed"]) == ("5", "4", "1")
    assert "Funnel: Recipients 5, Accepted 5, Sent 4, Delivered 0" in html
    body = ApiClient(client, app, make_key()).get(f"/broadcasts/{campaign.id}").get_json()["data"]
    assert (body["counts"]["accepted"], body["counts"]["sent"], body["counts"]["failed"]) == (5, 4, 1)
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)

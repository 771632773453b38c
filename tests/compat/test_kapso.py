"""Kapso's WhatsApp broadcasts under /compat/kapso, as a program written for Kapso uses them: the capture's
examples (../shared/reference/seeds/004_…) replayed — create, recipients (positional, named, media header), send,
poll — each answer held to the document."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from tests import factories
from tests.processes import wait_until
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.senders.models import Template

BROADCASTS = "/api/v1/whatsapp_broadcasts"


def _create(kapso, sender, template, name="July promo") -> dict:
    """Step 1 of the seed (lines 96-110), with our sender's and template's UUIDs."""
    return kapso.call("POST", BROADCASTS, {"whatsapp_broadcast": {
        "name": name, "whatsapp_config_id": str(sender.public_id), "whatsapp_template_id": str(template.public_id)}})


@pytest.mark.only_on("sqlite")
def test_drafts_take_recipients_in_batches_with_kapsos_error_sentences(compat):
    sender = factories.sender()
    positional = factories.template()  # order_update: {{1}}, {{2}}
    named = factories.template(name="promo", language="en", parameter_format="NAMED", components=[
        {"type": "BODY", "text": "Hi {{customer_name}}, use {{discount_code}} by {{expiry}}."}])
    other = factories.template(name="elsewhere", waba_id="999")
    db.session.commit()
    kapso = compat("kapso")
    assert kapso.call("POST", BROADCASTS, {"whatsapp_broadcast": {"whatsapp_config_id": "nope"}}).status == 400
    assert _create(kapso, sender, other).body == {
        "error": "The template elsewhere (en_US) is not linked to this WhatsApp config's business account."}
    created = _create(kapso, sender, positional).body["data"]
    assert (created["status"], created["total_recipients"], created["started_at"]) == ("draft", 0, None)
    path = f"{BROADCASTS}/{created['id']}"

    added = kapso.call("POST", f"{path}/recipients", {"recipients": [  # seed lines 129-138, and two bad ones
        {"phone_number": "+14155550123", "template_parameters": ["John", "50% off"]},
        {"phone_number": "+14155550124", "template_parameters": ["Jane", "40% off"]},
        {"phone_number": "+14155550125", "template_parameters": ["Solo"]},
        {"phone_number": "+14155550123", "template_parameters": ["John", "again"]},
        {"phone_number": "12", "template_parameters": ["Bad", "number"]}]}).body["data"]
    assert added == {"added": 2, "duplicates": 1, "errors": [
        "Recipient 3: template parameters invalid - The template takes 2 parameters ({{1}}, {{2}}) but 1 was given",
        "Recipient 5: invalid phone number format"]}
    too_many = kapso.call("POST", f"{path}/recipients", {"recipients": [{"phone_number": "+14155550126"}] * 1001})
    assert too_many.status == 422 and too_many.body["error"].startswith("At most 1,000 recipients per request")

    named_id = _create(kapso, sender, named).body["data"]["id"]
    named_added = kapso.call("POST", f"{BROADCASTS}/{named_id}/recipients", {"recipients": [  # seed lines 150-161
        {"phone_number": "+14155550123",
         "template_parameters": {"customer_name": "Alicia", "discount_code": "JULY25", "expiry": "2025-07-31"}}]})
    assert named_added.body["data"] == {"added": 1, "duplicates": 0, "errors": []}

    page = kapso.call("GET", f"{path}/recipients", page=1, per_page=1).body
    assert page["meta"] == {"page": 1, "per_page": 1, "total_pages": 2, "total_count": 2}
    assert page["data"][0]["phone_number"] == "14155550123" and page["data"][0]["status"] == "pending"
    assert kapso.call("GET", f"{path}/recipients", per_page=500).status == 400
    assert kapso.call("POST", f"{BROADCASTS}/{named_id}/send").body["data"]["status"] == "sending"
    assert kapso.call("POST", f"{BROADCASTS}/{named_id}/recipients",
                      {"recipients": [{"phone_number": "+14155550199"}]}).status == 409  # no longer a draft
    assert kapso.call("GET", f"{BROADCASTS}/8c9d0e1f-2a3b-4c5d-6e7f-8a9b0c1d2e3f").status == 404
    assert db.session.scalar(select(Campaign.status).where(Campaign.public_id == uuid.UUID(created["id"]))) == "draft"


@pytest.mark.slow
@pytest.mark.flow
@pytest.mark.only_on("postgresql")
def test_a_kapso_program_runs_the_complete_workflow(live_stack):
    kapso = live_stack.client("kapso", ["broadcasts:send"])
    invoice = db.session.scalar(select(Template).where(Template.name == "invoice_ready"))  # a document header
    broadcast = _create(kapso, live_stack.sender, invoice).body["data"]
    path = f"{BROADCASTS}/{broadcast['id']}"
    people = [{"phone_number": f"+1415555{i:04d}", "template_parameters": {
        "header_url": "https://example.com/invoice.pdf", "header_filename": f"invoice-{i}.pdf",
        "1": f"Customer {i}", "2": f"INV-{i}", "3": "$84.00"}} for i in range(200)]
    # "Add recipients (repeat for batches > 1000)": two batches here (the 1,000 bound is the quick test's)
    for batch in (people[:100], people[100:]):
        added = kapso.call("POST", f"{path}/recipients", {"recipients": batch}).body["data"]
        assert added == {"added": len(batch), "duplicates": 0, "errors": []}

    sent = kapso.call("POST", f"{path}/send").body["data"]
    assert (sent["status"], sent["total_recipients"]) == ("sending", 200) and sent["started_at"]
    final = wait_until(lambda: (b := kapso.call("GET", path).body["data"])["completed_at"] and b, 120, interval=1,
                       message="completion", processes=live_stack.processes)
    ledger = live_stack.sandbox.messages(limit=5000)
    assert len(ledger) == 200 and max(Counter(m["to"] for m in ledger).values()) == 1  # each number once
    assert final["status"] == "completed" and final["pending_count"] == 0
    assert final["sent_count"] + final["failed_count"] == 200
    seventh = next(m for m in ledger if m["to"].endswith("4155550007"))
    assert seventh["parameters"]["header"]["filename"] == "invoice-7.pdf"  # each recipient's own values reached Meta
    assert seventh["parameters"]["body"] == ["Customer 7", "INV-7", "$84.00"]
    rows = kapso.call("GET", f"{path}/recipients", per_page=100, page=2).body  # "List individual recipients"
    assert rows["meta"] == {"page": 2, "per_page": 100, "total_pages": 2, "total_count": 200}
    by_phone = {row["phone_number"]: row for row in rows["data"]}
    wamid_of = {m["to"].lstrip("+"): m for m in ledger}
    assert all(row["sent_at"] for row in by_phone.values() if wamid_of[row["phone_number"]]["status"] != "failed")

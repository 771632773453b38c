"""Wacrm's Broadcasts API under /compat/wacrm, as a program written for Wacrm uses it (seed 002; its lost example
and field names are in the seeds' README, from Wacrm's published API page)."""
from __future__ import annotations

from collections import Counter

import pytest

from tests import factories
from tests.processes import wait_until
from webapp.extensions import db


def _example(recipients: list[dict]) -> dict:
    """The README's POST body: name, template_name, template_language, recipients [{to, params}]."""
    return {"name": "July promo", "template_name": "order_shipped", "template_language": "en_US",
            "recipients": recipients}


@pytest.mark.only_on("sqlite")
def test_bad_requests_are_refused_in_wacrms_envelope_and_store_nothing(compat):
    factories.sender()
    factories.template()  # order_update (en_US): two body values
    db.session.commit()
    wacrm = compat("wacrm")
    unknown = wacrm.call("POST", "/api/v1/broadcasts", _example([{"to": "+14155550100", "params": ["a"]}]))
    assert unknown.status == 422 and unknown.body["error"].startswith("The sender Test number has no template "
                                                                      "order_shipped (en_US)")
    too_many = wacrm.call("POST", "/api/v1/broadcasts", {"template_name": "order_update",
                                                         "recipients": [{"to": "+14155550100"}] * 1001})
    assert too_many.status == 400 and "recipients" in too_many.body["error"]
    none_valid = wacrm.call("POST", "/api/v1/broadcasts", {"template_name": "order_update", "recipients": [
        {"to": "12", "params": ["Ann", "A1"]}, {"to": "+14155550101", "params": ["Bob"]}]})
    assert none_valid.status == 422 and "Add recipients" in none_valid.body["error"]
    assert wacrm.call("GET", "/api/v1/broadcasts/not-a-uuid").status == 404
    assert wacrm.call("GET", "/api/v1/broadcasts/5f6a7b8c-9d0e-1f2a-3b4c-5d6e7f8a9b0c").body == {
        "error": "There is no broadcast with this id."}
    from webapp.campaigns.models import Campaign
    assert db.session.query(Campaign).count() == 0  # a refused send leaves no draft behind


@pytest.mark.slow
@pytest.mark.flow
@pytest.mark.only_on("postgresql")
def test_a_wacrm_program_sends_a_broadcast_and_polls_it_until_sent(live_stack):
    wacrm = live_stack.client("wacrm", ["broadcasts:send"])
    people = [{"to": f"+1415555{i:04d}", "params": [f"Customer {i}", f"#{i}", "Friday"]} for i in range(20)]
    bad = [{"to": "not a phone"}, {"to": "+14155559999", "params": ["only one"]}]
    created = wacrm.call("POST", "/api/v1/broadcasts", _example(people + bad))
    assert created.status == 202
    data = created.body["data"]
    assert (data["status"], data["total_recipients"], data["accepted"], data["rejected"]) == ("sending", 22, 20, 2)

    final = wait_until(lambda: (b := wacrm.call("GET", f"/api/v1/broadcasts/{data['broadcast_id']}").body["data"])
                       ["status"] == "sent" and b, 90, interval=0.5, message="the broadcast to be sent")
    ledger = live_stack.sandbox.messages(limit=1000)
    assert Counter("+" + m["to"].lstrip("+") for m in ledger) == Counter(p["to"] for p in people)  # each once
    assert (final["id"], final["name"], final["template_name"], final["template_language"]) == \
        (data["broadcast_id"], "July promo", "order_shipped", "en_US")
    # sent_count: accepted by Meta (the sandbox's ledger); failed_count: those Meta failed afterwards, so far
    assert (final["total_recipients"], final["sent_count"]) == (20, len(ledger))
    assert final["failed_count"] <= sum(1 for m in ledger if m["status"] == "failed")
    third = next(m for m in ledger if m["to"].endswith("4155550003"))
    assert third["parameters"]["body"] == ["Customer 3", "#3", "Friday"]  # each recipient's params reached Meta

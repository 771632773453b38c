"""/compat/crm: the CRM's v1 broadcasts API (seed 001_a30db2b3412ea168.txt) on our broadcasts. Quick tests over the
Flask test client (SQLite), and one over real HTTP with a worker and the sandbox (PostgreSQL) that replays the seed's
examples and runs a broadcast to completion. Every answer is checked against /compat/crm/openapi.json."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.processes import wait_until
from webapp.audience.models import Segment
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.timestamps import utcnow

QUICK = pytest.mark.only_on("sqlite")
PATH = "/v1/broadcasts"


def _later(hours: int = 2) -> str:
    return (utcnow() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")  # the CRM's times: UTC, no zone


def _body(sender, audience, **fields) -> dict:
    return {"name": "July promo", "type": "client", "template": {"name": "order_update", "language": "en_US"},
            "segments": [{"id": str(audience.public_id)}], "bodyTextParameters": ["friend", "#7"],
            "location": {"id": str(sender.public_id)}, **fields}


def _campaigns() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


@QUICK
def test_a_crm_broadcast_is_drafted_scheduled_listed_sent_and_logged(compat):
    sender, _ = factories.sender(), factories.template()
    customers = factories.contact_list("Customers", ["+14155550100", "+14155550101"])
    crm = compat("crm")

    draft = crm.call("POST", PATH, _body(sender, customers, status="draft"))
    assert draft.status == 200
    made = draft.body
    assert (made["status"], made["segments"], made["bodyTextParameters"], made["location"]) == (
        "draft", [{"id": str(customers.public_id)}], ["friend", "#7"], {"id": str(sender.public_id)})
    assert (made["processedStats"], made["targetClass"], made["scheduleDateTime"]) == (
        {"totalCount": 0, "successCount": 0, "failureCount": 0}, None, None)

    at = _later()
    scheduled = crm.call("PUT", f"{PATH}/{made['id']}", {**made, "scheduleDateTime": at}).body  # a GET's answer, PUT back
    assert (scheduled["status"], scheduled["scheduleDateTime"]) == ("scheduled", at + "Z")
    assert crm.call("GET", f"{PATH}/{made['id']}").body == scheduled

    listed = crm.call("GET", PATH, searchText="JULY", locationId=str(sender.public_id),
                      startDate=utcnow().date().isoformat(), endDate=utcnow().date().isoformat()).body
    assert [b["id"] for b in listed] == [made["id"]]
    assert crm.call("GET", PATH, searchText="august").body == []
    assert crm.call("GET", PATH, endDate=(utcnow() - timedelta(days=1)).date().isoformat()).body == []
    assert crm.call("GET", PATH, page="2", limit="1").body == []

    sent = crm.call("PUT", f"{PATH}/{made['id']}", {**scheduled, "scheduleDateTime": None}).body
    assert (sent["status"], sent["scheduleDateTime"]) == ("queued", None)  # no time, not a draft: sent now
    refused = crm.call("DELETE", f"{PATH}/{made['id']}")
    assert (refused.status, refused.body["success"]) == (409, False)

    other = crm.call("POST", PATH, _body(sender, customers, status="draft", name="Other")).body
    assert crm.call("DELETE", f"{PATH}/{other['id']}").body == {"success": True}
    assert crm.call("GET", f"{PATH}/{other['id']}").status == 404

    done = factories.campaign("sent", ["+14155550100", "+447700900123"], name="Logged", sender=sender)
    first, second = db.session.scalars(select(Recipient).where(Recipient.campaign_id == done.id)
                                       .order_by(Recipient.id)).all()
    first.name, first.status, first.reached, first.reply_text = "Ana", "replied", 5, "Thanks"
    first.accepted_at = first.replied_at = utcnow()
    second.status, second.error_title, second.failed_at = "failed", "Message undeliverable", utcnow()
    add_counts(db.session, done.id, {"pending": -2, "failed": 1, "accepted": 1, "sent": 1, "delivered": 1,
                                     "read": 1, "replied": 1})
    db.session.commit()
    logs = crm.call("GET", f"{PATH}/{done.public_id}/logs", limit="1", page="2").body
    assert [(r["phone"], r["countryCode"], r["status"], r["error"]) for r in logs] == [
        ("7700900123", "44", "failed", "Message undeliverable")]
    ana = crm.call("GET", f"{PATH}/{done.public_id}/logs").body[0]
    assert (ana["recepientName"], ana["reply"], ana["broadcast"]["name"]) == ("Ana", "Thanks", "Logged")
    stats = crm.call("GET", f"{PATH}/{done.public_id}").body
    assert (stats["processedStats"], stats["deliveryStats"]) == (
        {"totalCount": 2, "successCount": 1, "failureCount": 1},
        {"sentCount": 1, "deliveredCount": 1, "readCount": 1, "failedCount": 1, "repliedCount": 1})


@QUICK
def test_what_the_crm_asks_and_we_cannot_honour_is_refused_by_name_and_changes_nothing(compat):
    sender, _ = factories.sender(), factories.template()
    customers = factories.contact_list("Customers", ["+14155550100"])
    segment = Segment(name="Everyone", definition={"match": "all", "conditions": []})
    db.session.add(segment)
    db.session.commit()
    crm = compat("crm")

    def refused(status: int, body: dict) -> str:
        answer = crm.call("POST", PATH, body)
        assert (answer.status, answer.body["success"]) == (status, False), answer.body
        return answer.body["message"]

    assert refused(422, _body(sender, customers, targetClass={"id": "vip"}, flowParameters={"flowToken": "t"})) == (
        "This server cannot honour flowParameters, targetClass: flow buttons are not sendable here; contacts have no "
        "classes here; choose them with segments. Leave them out (or null).")
    assert "locationParameters" in refused(422, _body(sender, customers, locationParameters={"latitude": 1}))
    assert refused(422, _body(sender, customers, segments=[{"id": "text"}])) == \
        "segments[0].id: there is no segment or contact list text."
    assert "one segment, or contact lists" in refused(422, _body(
        sender, customers, segments=[{"id": str(customers.public_id)}, {"id": str(segment.public_id)}]))
    assert refused(422, _body(sender, customers, bodyTextParameters=["friend"])) == \
        "bodyTextParameters: order_update takes 2 ({{1}}, {{2}}), not 1."
    assert refused(422, _body(sender, customers, location={"id": str(customers.public_id)})).startswith(
        "location.id: there is no location")
    assert refused(422, _body(sender, customers, scheduleDateTime="2020-01-01T09:00:00")) == \
        "Choose a time in the future."
    assert refused(400, _body(sender, customers, scheduleDateTime="tomorrow")) == \
        "scheduleDateTime is not an ISO 8601 date-time, e.g. 2026-03-01T09:30:00Z."
    assert "retargetEngagementType" in refused(422, _body(sender, customers, segments=[],
                                                          retargetBroadcast={"id": "x"}))
    assert "type" in refused(400, _body(sender, customers, type="lead"))
    assert "name" in refused(400, {k: v for k, v in _body(sender, customers).items() if k != "name"})
    assert _campaigns() == 0

    reader = compat("crm", scopes=["broadcasts:read"])
    assert reader.call("POST", PATH, _body(sender, customers)).status == 403
    assert compat("crm", key=None).call("GET", PATH).status == 401
    assert crm.call("GET", f"{PATH}/not-an-id/logs").status == 404
    assert crm.call("GET", PATH, limit="0").status == 400
    on_segment = crm.call("POST", PATH, _body(sender, segment, status="draft")).body
    assert on_segment["segments"] == [{"id": str(segment.public_id)}] and _campaigns() == 1


# --- Over HTTP, with a worker and the sandbox -------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.flow
@pytest.mark.only_on("postgresql")
def test_the_seeds_examples_and_a_broadcast_to_completion(live_stack):
    """001_a30db2b3412ea168.txt: the examples of GET/POST /v1/broadcasts (lines 24-95, 96-234), GET/PUT/DELETE
    /v1/broadcasts/{broadcastId} (lines 235-528) and GET …/logs (lines 529-560), with our ids for "text"."""
    phones = ["+14155550201", "+14155550202", "+14155550203"]
    customers = factories.contact_list("Customers", phones)
    crm = live_stack.client("crm")

    example = {  # the POST example (lines 105-168), as the seed gives it
        "id": "text", "name": "text", "type": "client", "status": "text", "segments": [{"id": "text"}],
        "targetClass": {"id": "text"}, "targetClassStatus": "ALL", "retargetBroadcast": {"id": "text"},
        "retargetEngagementType": "sent", "scheduleDateTime": "text", "startedAt": "text", "completedAt": "text",
        "template": {"name": "text", "language": "text"}, "headerMediaUrl": "text", "headerTextParameters": ["text"],
        "bodyTextParameters": ["text"], "buttonUrlParameters": ["text"],
        "locationParameters": {"latitude": 1, "longitude": 1, "address": "text", "name": "text"},
        "flowParameters": {"flowToken": "text", "flowData": "text"}, "location": {"id": "text"},
        "processedStats": {"totalCount": 1, "successCount": 1, "failureCount": 1},
        "deliveryStats": {"sentCount": 1, "deliveredCount": 1, "readCount": 1, "failedCount": 1, "repliedCount": 1}}
    refused = crm.call("POST", PATH, example)
    assert refused.status == 422 and refused.body["details"] == {
        "fields": ["locationParameters", "flowParameters", "targetClass"]}
    ours = {**example, "name": "Spring sale", "segments": [{"id": str(customers.public_id)}],
            "targetClass": None, "locationParameters": None, "flowParameters": None, "retargetBroadcast": None,
            "retargetEngagementType": None, "scheduleDateTime": None, "headerMediaUrl": None,
            "template": {"name": "order_shipped", "language": "en_US"}, "headerTextParameters": [],
            "bodyTextParameters": ["friend", "#7", "Friday"], "buttonUrlParameters": [],
            "location": {"id": str(live_stack.sender.public_id)}}
    draft = crm.call("PUT", f"{PATH}/{crm.call('POST', PATH, {**ours, 'status': 'draft'}).body['id']}",
                     {**ours, "status": "draft", "name": "Spring sale, again"}).body
    assert (draft["status"], draft["name"]) == ("draft", "Spring sale, again")
    assert crm.call("DELETE", f"{PATH}/{draft['id']}").body == {"success": True}

    sent = crm.call("POST", PATH, ours).body  # no scheduleDateTime, not a draft: sent at once
    done = wait_until(lambda: (b := crm.call("GET", f"{PATH}/{sent['id']}").body)["completedAt"] and b, 60,
                      interval=0.5, message="completion", processes=live_stack.processes)
    assert done["status"] == "sent" and done["processedStats"]["totalCount"] == 3
    assert [b["id"] for b in crm.call("GET", PATH).body] == [sent["id"]]
    ledger = live_stack.sandbox.messages(limit=100)
    assert Counter("+" + m["to"].lstrip("+") for m in ledger) == Counter(phones)  # each number once
    assert all(m["parameters"]["body"] == ["friend", "#7", "Friday"] for m in ledger)
    logs = crm.call("GET", f"{PATH}/{sent['id']}/logs", limit="10").body
    assert sorted("+1" + r["phone"] for r in logs) == phones and {r["countryCode"] for r in logs} == {"1"}

"""/compat/django: the multi-platform (Django) broadcast API (seed 003_673baecf6c7710c6.txt) on our broadcasts. Quick
tests over the Flask test client (SQLite), and one over real HTTP with a worker and the sandbox (PostgreSQL) that
replays the seed's example and runs a broadcast to completion. Every answer is checked against
/compat/django/openapi.json."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from jobs.clicks import count as count_queued_clicks
from tests import factories
from tests.processes import wait_until
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

QUICK = pytest.mark.only_on("sqlite")
PHONES = ["+14155550301", "+14155550302", "+14155550303"]


def _later(hours: int = 2) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _contacts() -> list[str]:
    factories.contact_list("Customers", PHONES)
    return [str(c.public_id) for c in db.session.scalars(select(Contact).order_by(Contact.phone))]


def _body(recipients: list[str], **fields) -> dict:
    return {"name": "Summer Sale Campaign", "platform": "WHATSAPP", "template_name": "order_update",
            "recipients": recipients, **fields}


@QUICK
def test_a_django_broadcast_is_drafted_scheduled_grown_sent_and_its_messages_read(compat):
    sender, _ = factories.sender(), factories.template(components=[{"type": "BODY", "text": "Our summer sale starts now."}])
    first, second, third = _contacts()
    django = compat("django")

    draft = django.call("POST", "/broadcast/", _body([first, second]))
    assert draft.status == 201
    made = draft.body
    assert (made["status"], made["status_display"], made["recipients"], made["total_recipients"]) == (
        "DRAFT", "Draft", [first, second], 2)

    at = _later()
    grown = django.call("PUT", f"/broadcast/{made['id']}/", _body([first, second, third], scheduled_at=at)).body
    assert (grown["status"], grown["scheduled_at"], grown["recipients"]) == ("SCHEDULED", at, [first, second, third])
    shrunk = django.call("PUT", f"/broadcast/{made['id']}/", _body([first]))
    assert shrunk.status == 400 and "can be added, not taken out" in shrunk.body["detail"]
    assert django.call("GET", f"/broadcast/{made['id']}/").body == grown  # nothing changed

    other = django.call("POST", "/broadcast/", _body([first], name="Other")).body
    page = django.call("GET", "/broadcast/", page_size=1).body
    assert (page["count"], [b["id"] for b in page["results"]], page["previous"]) == (2, [other["id"]], None)
    assert page["next"].endswith("/compat/django/broadcast/?page_size=1&page=2")
    assert django.call("GET", "/broadcast/", page=3, page_size=1).status == 404
    assert django.call("DELETE", f"/broadcast/{other['id']}/").status == 204

    queued = django.call("PUT", f"/broadcast/{made['id']}/", _body([first, second, third], status="QUEUED")).body
    assert (queued["status"], queued["status_display"], queued["scheduled_at"]) == ("QUEUED", "Ongoing", None)
    assert django.call("DELETE", f"/broadcast/{made['id']}/").status == 409
    messages = django.call("GET", "/broadcast/messages/", broadcast=made["id"]).body
    assert messages["count"] == 3
    assert {(m["contact"], m["status"], m["broadcast"]) for m in messages["results"]} == {
        (first, "PENDING", made["id"]), (second, "PENDING", made["id"]), (third, "PENDING", made["id"])}
    one = messages["results"][0]
    assert django.call("GET", f"/broadcast/messages/{one['id']}/").body == one
    assert django.call("GET", "/broadcast/messages/", status="READ").body["count"] == 0

    cancelled = django.call("PUT", f"/broadcast/{made['id']}/", _body([], status="CANCELLED")).body
    assert (cancelled["status"], cancelled["status_display"]) == ("CANCELLED", "Cancelled")
    assert django.call("GET", "/broadcast/messages/", status="CANCELLED").body["count"] == 3

    factories.campaign("sent", ["+14155550309"], name="Earlier", sender=sender, created_at=utcnow() - timedelta(1))
    board = django.call("GET", "/broadcast/dashboard/").body
    assert (board["by_status"]["CANCELLED"], board["by_status"]["SENT"], board["count"]) == (1, 1, 2)
    assert board["totals"] == {"broadcasts": 2, "total_recipients": 4, "sent": 0, "delivered": 0, "read": 0,
                               "failed": 0, "replied": 0}
    assert [(row["name"], row["status"], row["total_recipients"]) for row in board["results"]] == [
        ("Summer Sale Campaign", "CANCELLED", 3), ("Earlier", "SENT", 1)]


@QUICK
def test_django_refusals_name_what_is_wrong_and_change_nothing(compat):
    factories.sender(), factories.template()
    first, *_ = _contacts()
    django = compat("django")

    def refused(status: int, body: dict) -> str:
        answer = django.call("POST", "/broadcast/", body)
        assert answer.status == status, answer.body
        return answer.body["detail"]

    assert refused(422, _body([first], platform="TELEGRAM")) == \
        "platform: this server sends on WHATSAPP only (TELEGRAM is not set up)."
    assert refused(400, _body([first, "contact-uuid-2"])) == "recipients: no contact has the id contact-uuid-2."
    assert "SENT" in refused(400, _body([first], status="SENT"))
    assert refused(400, _body([first], status="SCHEDULED")) == "status SCHEDULED needs scheduled_at."
    assert refused(422, _body([first], scheduled_at="2024-07-01T10:00:00Z")) == "Choose a time in the future."
    assert refused(400, _body([first], scheduled_at="2024-07-01T10:00:00")) == \
        "scheduled_at needs a time zone: end it with Z for UTC."
    assert refused(422, _body([], status="QUEUED")) == "Add recipients before sending: this broadcast has none yet."
    assert "no template" in refused(422, _body([first], template_name="summer_sale"))
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0

    assert compat("django", key=None).call("GET", "/broadcast/").body == {
        "detail": "Send an API key in the Authorization: Bearer <key> header. Admins create keys in Settings → API keys."}
    assert compat("django", scopes=["broadcasts:read"]).call("POST", "/broadcast/", _body([first])).status == 403
    assert django.call("GET", "/broadcast/00000000-0000-0000-0000-000000000000/").body == {
        "detail": "No Broadcast matches the given query."}
    assert django.call("GET", "/broadcast/messages/999/").status == 404


# --- Over HTTP, with a worker and the sandbox -------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.flow
@pytest.mark.only_on("postgresql")
def test_the_seeds_example_and_a_broadcast_to_completion(live_stack):
    """003_673baecf6c7710c6.txt, "Create Broadcast": the curl example's body with our contacts' UUIDs, a time to
    come (its 2024-07-01 has passed) and a template the sandbox has; then sent with status QUEUED, polled to SENT."""
    recipients = _contacts()
    django = live_stack.client("django")

    example = {"name": "Summer Sale Campaign", "platform": "WHATSAPP", "template_name": "hello_world",
               "recipients": recipients, "scheduled_at": _later(24)}
    created = django.call("POST", "/broadcast/", example).body
    assert (created["status"], created["recipients"]) == ("SCHEDULED", recipients)
    django.call("PUT", f"/broadcast/{created['id']}/", {**example, "scheduled_at": None, "status": "QUEUED"})
    done = wait_until(lambda: (b := django.call("GET", f"/broadcast/{created['id']}/").body)["completed_at"] and b,
                      60, interval=0.5, message="completion", processes=live_stack.processes)
    assert (done["status"], done["status_display"], done["total_recipients"]) == ("SENT", "Completed", 3)
    ledger = live_stack.sandbox.messages(limit=100)
    assert Counter("+" + m["to"].lstrip("+") for m in ledger) == Counter(PHONES)  # each number once
    messages = django.call("GET", "/broadcast/messages/", broadcast=created["id"]).body["results"]
    assert sorted(m["phone_number"] for m in messages) == PHONES
    assert all(m["sent_at"] for m in messages)
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 3


@QUICK
def test_url_tracking_lists_each_tracked_link_with_its_clicks(compat, client):
    from tests.tracking.test_clicks import PHONE_BROWSER, SHOP, _campaign_with_links
    from webapp.campaigns.links import code_for

    campaign, rows, body, button = _campaign_with_links()
    other, other_rows, other_body, _ = _campaign_with_links(phones=("+15550100009",), sender=campaign.sender)
    for row in rows:
        assert client.get(f"/r/{code_for(body.id, row.id)}/", headers={"User-Agent": PHONE_BROWSER}).location == SHOP
    client.get(f"/r/{code_for(body.id, rows[0].id)}", headers={"User-Agent": PHONE_BROWSER})
    client.get(f"/r/{code_for(body.id, rows[0].id)}", headers={"User-Agent": "WhatsApp/2.23.20.0 A"})  # a preview
    count_queued_clicks()  # the worker's job counts the clicks the redirect queued
    django = compat("django")

    every = django.call("GET", "/broadcast/url-tracking/").body
    assert every["count"] == 4
    mine = django.call("GET", "/broadcast/url-tracking/", broadcast=str(campaign.public_id)).body
    assert [(link["variable"], link["url"], link["clicks"], link["unique_clicks"]) for link in mine["results"]] == [
        ("button:0", None, 0, 0), ("body:2", SHOP, 3, 2)]
    assert mine["results"][0]["broadcast"] == str(campaign.public_id)
    assert mine["results"][0]["tracking_url"].endswith("/r/{code}/")
    unknown = django.call("GET", "/broadcast/url-tracking/", broadcast="6b1f9c1e-0000-4000-8000-000000000000")
    assert unknown.status == 404

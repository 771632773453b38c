"""wask's broadcast lists under /compat/wask, as a program written for wask uses them: the seed's examples
(../shared/reference/seeds/000_…) replayed, each answer held to the document, and a free-form send that reaches
only the members inside their 24-hour window."""
from __future__ import annotations

from collections import Counter

import pytest
import requests
from sqlalchemy import select

from tests.processes import wait_until
from webapp.contacts.models import Contact, ContactList
from webapp.extensions import db
from webapp.inbox.list_messages import OUTSIDE
from webapp.inbox.models import Conversation
from webapp.timestamps import utcnow

SESSION = "/sessions/my-session/broadcasts"
# Seed 000, "Create Broadcast List" (lines 11-20) and "Update Broadcast List" (lines 72-76).
CREATE = {"name": "Marketing List", "recipients": ["919988066776", "919876543210", "919123456789"]}
UPDATE = {"name": "Updated List Name", "recipients": ["919988066776", "919876543210"]}
TEXT = {"text": "Hello everyone! This is a broadcast message."}  # "Example Request (Text)", lines 98-103
IMAGE = {"type": "image", "media": "https://example.com/image.jpg", "caption": "Check out this offer!"}  # 105-112


def _inside_window(*phones: str) -> None:
    """These customers wrote to us a minute ago: a free-form message may reach them."""
    now = utcnow()
    for contact in db.session.scalars(select(Contact).where(Contact.phone.in_(phones))):
        db.session.add(Conversation(contact_id=contact.id, last_message_at=now, last_customer_message_at=now))
    db.session.commit()


@pytest.mark.only_on("sqlite")
def test_lists_crud_as_the_seed_shows_and_bad_numbers_change_nothing(compat):
    wask = compat("wask")
    created = wask.call("POST", SESSION, CREATE).body
    list_id = created["broadcast"]["id"]
    assert created == {"success": True, "broadcast": {"id": list_id, "name": "Marketing List", "recipientCount": 3}}
    assert list_id.startswith("broadcast_")
    [listed] = wask.call("GET", SESSION).body["broadcasts"]
    assert (listed["id"], listed["recipientCount"]) == (list_id, 3) and listed["createdAt"].endswith("Z")
    detail = wask.call("GET", f"{SESSION}/{list_id}").body["broadcast"]
    assert detail["recipients"] == CREATE["recipients"]

    refused = wask.call("PUT", f"{SESSION}/{list_id}", {"name": "Other", "recipients": ["919988066776", "12345678"]})
    assert refused.status == 400 and refused.body["error"].startswith("Some recipients are not valid phone numbers: "
                                                                      "12345678")
    assert wask.call("GET", f"{SESSION}/{list_id}").body["broadcast"]["name"] == "Marketing List"  # nothing changed
    updated = wask.call("PUT", f"{SESSION}/{list_id}", UPDATE).body["broadcast"]
    assert (updated["name"], updated["recipientCount"]) == ("Updated List Name", 2)
    assert wask.call("GET", f"{SESSION}/{list_id}").body["broadcast"]["recipients"] == UPDATE["recipients"]

    assert wask.call("POST", SESSION, {"name": "updated list name", "recipients": []}).status == 409  # name taken
    assert wask.call("POST", SESSION, {"name": "No numbers"}).status == 400
    assert wask.call("POST", f"{SESSION}/{list_id}/send", {"type": "image"}).body == {
        "success": False, "error": "An image message needs `media`, the https URL of the file."}
    assert wask.call("POST", f"{SESSION}/{list_id}/send", {"type": "image", "media": "ftp://x/y.jpg"}).status == 422
    nobody = wask.call("POST", f"{SESSION}/{list_id}/send", TEXT).body  # no member wrote in the last 24 hours
    assert nobody["broadcast"] == {"id": list_id, "totalRecipients": 2, "sent": 0, "failed": 2}
    assert {(r["status"], r["messageId"], r["error"]) for r in nobody["results"]} == {("failed", None, OUTSIDE)}

    assert wask.call("DELETE", f"{SESSION}/{list_id}").body == {"success": True}
    assert wask.call("GET", f"{SESSION}/{list_id}").status == 404
    assert db.session.scalar(select(ContactList.id)) is None


@pytest.mark.slow
@pytest.mark.flow
@pytest.mark.only_on("postgresql")
def test_a_wask_program_sends_to_its_lists_and_only_those_inside_their_window_get_it(live_stack):
    wask = live_stack.client("wask", ["lists:write", "inbox:send"])
    list_id = wask.call("POST", SESSION, CREATE).body["broadcast"]["id"]
    _inside_window("+919988066776", "+919876543210")

    sent = wask.call("POST", f"{SESSION}/{list_id}/send", TEXT)  # three members: the answer waits for the sends
    assert sent.status == 200, live_stack.processes.output()
    assert sent.body["broadcast"] == {"id": list_id, "totalRecipients": 3, "sent": 2, "failed": 1}
    results = {r["to"]: r for r in sent.body["results"]}
    assert results["919123456789"] == {"to": "919123456789", "status": "failed", "messageId": None, "error": OUTSIDE}
    ledger = {m["to"].lstrip("+"): m for m in live_stack.sandbox.messages(limit=1000)}
    assert {to: results[to]["messageId"] for to in ("919988066776", "919876543210")} == \
        {to: ledger[to]["wamid"] for to in ("919988066776", "919876543210")}
    assert ledger["919988066776"]["text"] == TEXT["text"]

    big = [f"1415555{i:04d}" for i in range(101)]  # more than 100: 202, then the results at statusUrl
    big_id = wask.call("POST", SESSION, {"name": "Everyone", "recipients": big}).body["broadcast"]["id"]
    _inside_window(*(f"+{n}" for n in big[:95]))
    accepted = wask.call("POST", f"{SESSION}/{big_id}/send", IMAGE)
    assert accepted.status == 202
    assert accepted.body["broadcast"] == {"id": big_id, "totalRecipients": 101, "queued": 95, "failed": 6}
    path = accepted.body["statusUrl"].split("/compat/wask", 1)[1]
    done = wait_until(lambda: (s := wask.call("GET", path).body)["completed"] and s, 60, interval=0.5,
                      message="the list send to complete")
    assert (done["broadcast"]["sent"] + done["broadcast"]["failed"], done["broadcast"]["pending"]) == (101, 0)
    images = [m for m in live_stack.sandbox.messages(limit=1000) if m["type"] == "image"]
    assert Counter(m["to"].lstrip("+") for m in images) == Counter(big[:95])  # each inside the window, once
    assert (images[0]["media"], images[0]["text"]) == ({"type": "image", "link": IMAGE["media"]}, IMAGE["caption"])
    assert requests.get(accepted.body["statusUrl"], timeout=10).status_code == 401  # results need a key

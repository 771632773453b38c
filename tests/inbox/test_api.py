"""The Inbox's API: conversations and their messages (inbox:read), a message to one contact (inbox:send) through
the real sandbox, its refusals in the API's error shape, and a free-form message to a list's members inside their
window, the others skipped with the reason, each sent exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import jobs.inbox
from tests import factories
from tests.api.conftest import api, api_as, make_key  # noqa: F401 - the API's client, checked against its document
from tests.conftest import post
from tests.webhooks import meta
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.list_messages import OUTSIDE
from webapp.inbox.models import Answer, Conversation
from webapp.timestamps import utcnow

ANA, BEN, CID, DAN = "15550000001", "15550000002", "15550000003", "15550000004"


def wrote(client, number: str, hours_ago: float, text: str = "Is it in stock?") -> None:
    """The customer's message arrives by webhook, as Meta posts it."""
    at = utcnow() - timedelta(hours=hours_ago)
    assert meta.post(client, meta.message(f"wamid.IN.{number}.{hours_ago}", number, at, text)).status_code == 200
    db.session.expire_all()


def contact(number: str) -> Contact:
    return db.session.scalar(select(Contact).where(Contact.phone == f"+{number}"))


def answers() -> list[Answer]:
    db.session.expire_all()
    return list(db.session.scalars(select(Answer).order_by(Answer.id)))


@pytest.fixture
def inbox(app, client, sandbox, sandbox_sender, webhook):
    """Ana wrote an hour ago, Ben 25 hours ago (his window closed)."""
    wrote(client, BEN, 25, "Hello?")
    wrote(client, ANA, 1)
    return client


def test_messages_sharing_one_timestamp_page_back_without_loss_or_repeat(api, inbox):
    """A burst of the customer's messages and staff's answers stamped the same instant (a webhook batch, a list
    message): the cursor carries the time, the source and the id, so every page picks up where the last ended."""
    at = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    for n in range(5):
        assert meta.post(inbox, meta.message(f"wamid.SAME.{n}", ANA, at, f"Question {n}")).status_code == 200
    conversation = db.session.scalar(select(Conversation.id).join(Contact).where(Contact.phone == f"+{ANA}"))
    db.session.add_all(Answer(conversation_id=conversation, sender_id=None, phone=f"+{ANA}", text=f"Answer {n}",
                              status="read", created_at=at) for n in range(4))
    db.session.commit()

    seen, before = [], None
    while True:
        page = api.get(f"/conversations/%2B{ANA}/messages", per_page=2,
                       **({"before": before} if before else {})).get_json()
        seen[:0] = [(m["source"], m["text"]) for m in page["data"]]
        before = page["meta"]["next_before"]
        if before is None:
            break

    assert seen == [("customer", "Is it in stock?")] + [("customer", f"Question {n}") for n in range(5)] \
        + [("answer", f"Answer {n}") for n in range(4)]  # at one instant: the customer's, then the answers
    refused = api.get(f"/conversations/%2B{ANA}/messages", before="2026-01-01T00:00:00Z")
    assert refused.status_code == 400 and "next_before" in refused.get_json()["error"]["message"]


def test_keys_without_the_inbox_scopes_get_the_apis_403(admin_client, api_as, inbox):
    reader = api_as(make_key(["inbox:read"]))
    other = api_as(make_key(["broadcasts:send", "lists:write"]))
    for response in (other.get("/conversations"), other.post("/messages", {"to": f"+{ANA}", "type": "text",
                                                                            "text": "Hi"}),
                     reader.post("/messages", {"to": f"+{ANA}", "type": "text", "text": "Hi"})):
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "insufficient_scope"
    assert reader.get("/conversations").status_code == 200
    assert "inbox:send" in admin_client.get("/settings/api-keys").get_data(as_text=True)


def test_conversations_newest_first_filtered_searched_and_paged(api, inbox):
    wrote(inbox, CID, 2, "Can I book Friday?")
    first = api.get("/conversations", per_page=2).get_json()
    assert [c["contact"]["phone_number"] for c in first["data"]] == [f"+{ANA}", f"+{CID}"]
    assert first["data"][0]["window"]["open"] and first["data"][0]["unread"] == 1
    rest = api.get("/conversations", per_page=2, before=first["meta"]["next_before"]).get_json()
    assert [c["contact"]["phone_number"] for c in rest["data"]] == [f"+{BEN}"]
    assert rest["meta"]["next_before"] is None and not rest["data"][0]["window"]["open"]
    assert [c["contact"]["phone_number"] for c in api.get("/conversations", q="0000003").get_json()["data"]] == \
        [f"+{CID}"]
    assert api.get("/conversations", filter="done").get_json()["data"] == []
    assert api.get("/conversations", filter="nonsense").status_code == 400


def test_a_text_goes_through_the_sandbox_once_whatever_the_retries_and_its_status_follows(api, inbox, sandbox):
    request = {"to": f"+{ANA}", "type": "text", "text": "Yes, in blue!"}
    sent = api.post("/messages", request, headers={"Idempotency-Key": "order-1"})
    again = api.post("/messages", request, headers={"Idempotency-Key": "order-1"})
    assert sent.status_code == again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert sent.get_json() == again.get_json() and sent.get_json()["data"]["status"] == "pending"
    [answer] = answers()
    assert jobs.inbox.send_answer(answer.id) == "accepted"
    [message] = [m for m in sandbox.messages() if m["to"] == f"+{ANA}"]
    assert message["type"] == "text"
    meta.post(inbox, meta.statuses(meta.status(answers()[0].wamid, "read", utcnow(), ANA)))

    by_id = api.get(f"/conversations/{contact(ANA).id}/messages").get_json()["data"]
    by_phone = api.get(f"/conversations/%2B{ANA}/messages").get_json()["data"]
    assert by_id == by_phone
    assert [(m["source"], m["text"], m["status"]) for m in by_id] == [
        ("customer", "Is it in stock?", None), ("answer", "Yes, in blue!", "read")]


def test_a_conversations_messages_page_back_in_time(api, inbox):
    for hours in (0.5, 0.4, 0.3):
        wrote(inbox, ANA, hours, f"Message {hours}")
    newest = api.get(f"/conversations/%2B{ANA}/messages", per_page=2).get_json()
    assert [m["text"] for m in newest["data"]] == ["Message 0.4", "Message 0.3"]
    older = api.get(f"/conversations/%2B{ANA}/messages", per_page=2, before=newest["meta"]["next_before"]).get_json()
    assert [m["text"] for m in older["data"]] == ["Is it in stock?", "Message 0.5"]
    assert older["meta"]["next_before"] is None


def test_media_by_link_goes_as_a_link(api, inbox, sandbox):
    link = "https://shop.example/blue.jpg"
    assert api.post("/messages", {"to": contact(ANA).id, "type": "image", "link": link,
                                  "text": "The blue one"}).status_code == 202
    assert jobs.inbox.send_answer(answers()[0].id) == "accepted"
    [message] = [m for m in sandbox.messages() if m["to"] == f"+{ANA}"]
    assert message["type"] == "image" and link in str(message)


def test_refusals_name_their_reason(api, inbox, sandbox):
    def refused(body, status, code):
        response = api.post("/messages", body)
        assert response.status_code == status and response.get_json()["error"]["code"] == code, response.get_json()
        return response.get_json()["error"]

    error = refused({"to": f"+{BEN}", "type": "text", "text": "Still there?"}, 422, "outside_window")
    assert "24-hour window" in error["message"]
    refused({"to": f"+{ANA}", "type": "text", "text": "   "}, 422, "unprocessable")
    refused({"to": f"+{ANA}", "type": "image"}, 422, "bad_media")
    refused({"to": f"+{ANA}", "type": "image", "media_id": "123", "link": "https://a.example/x.jpg"}, 422,
            "bad_media")
    refused({"to": f"+{ANA}", "type": "image", "link": "http://a.example/x.jpg"}, 400, "invalid_request")
    refused({"to": "+15559999999", "type": "text", "text": "Hi"}, 404, "not_found")
    refused({"to": 999999, "type": "text", "text": "Hi"}, 404, "not_found")
    ben = contact(BEN)
    ben.opted_out_at = utcnow()
    db.session.commit()
    refused({"to": f"+{BEN}", "type": "template", "template_name": "order_shipped",
             "template_parameters": ["Ben", "#1", "Friday"]}, 422, "opted_out")
    assert answers() == [] and sandbox.messages() == []
    assert api.get("/conversations/+15559999999/messages").status_code == 404


def test_outside_the_window_a_template_goes_even_to_a_contact_who_never_wrote(api, inbox, sandbox):
    factories.contact_list("Prospects", [(f"+{DAN}", "Dan", {})])
    db.session.commit()
    response = api.post("/messages", {"to": f"+{DAN}", "type": "template", "template_name": "order_shipped",
                                      "template_parameters": ["Dan", "#7", "Monday"]})
    assert response.status_code == 202 and "your order #7 has shipped" in response.get_json()["data"]["text"]
    assert jobs.inbox.send_answer(answers()[0].id) == "accepted"
    [message] = [m for m in sandbox.messages() if m["to"] == f"+{DAN}"]
    assert message["type"] == "template"


def test_a_list_message_reaches_those_inside_their_window_once_and_skips_the_others(api, inbox, sandbox):
    wrote(inbox, CID, 2)
    contact(CID).opted_out_at = utcnow()
    customers = factories.contact_list("Customers", [f"+{n}" for n in (ANA, BEN, CID, DAN)])
    db.session.commit()

    response = api.post(f"/lists/{customers.id}/messages", {"type": "text", "text": "We open at 9 tomorrow"})
    assert response.status_code == 202
    found = response.get_json()["data"]
    assert (found["queued"], found["skipped"]) == (1, 3)
    results = {r["phone_number"]: r for r in found["results"]}
    assert results[f"+{ANA}"]["status"] == "queued" and results[f"+{ANA}"]["message_id"] == answers()[0].id
    assert results[f"+{BEN}"]["reason"] == results[f"+{DAN}"]["reason"] == OUTSIDE
    assert results[f"+{CID}"]["reason"].startswith("opted out")

    ids = [answer.id for answer in answers()]
    assert jobs.inbox.send_answers(ids) == {"accepted": 1}
    assert jobs.inbox.send_answers(ids) == {"not pending": 1}  # a second run sends nothing again
    assert [m["to"] for m in sandbox.messages()] == [f"+{ANA}"]


def test_the_list_page_offers_the_message_to_those_inside_the_window(staff_client, inbox, sandbox):
    customers = factories.contact_list("Customers", [f"+{n}" for n in (ANA, BEN)])
    db.session.commit()
    url = f"/inbox/lists/{customers.id}/message"
    assert f'hx-get="{url}"' in staff_client.get(f"/lists/{customers.id}").get_data(as_text=True)
    form = staff_client.get(url, headers={"HX-Request": "true", "HX-Target": "list-message"}).get_data(as_text=True)
    assert "1 of 2 contacts" in form and "1 is outside the 24-hour window" in form and "data-confirm" in form
    assert post(staff_client, url, {"text": " "}).status_code == 422 and answers() == []
    assert post(staff_client, url, {"text": "We open at 9"}).status_code == 302
    [answer] = answers()
    assert answer.phone == f"+{ANA}" and answer.text == "We open at 9" and answer.status == "pending"


def test_a_retryable_meta_error_puts_the_answer_back_in_line_and_it_goes_once(api, inbox, sandbox):
    sandbox.fault(status=500, count=1)
    assert api.post("/messages", {"to": f"+{ANA}", "type": "text", "text": "Yes, in blue!"}).status_code == 202
    [answer] = answers()
    assert jobs.inbox.send_answer(answer.id) == "pending"  # refused by Meta: tried again after the back-off
    [answer] = answers()
    assert answer.attempts == 1 and answer.error_code is not None and sandbox.messages() == []
    assert jobs.inbox.send_answer(answer.id) == "accepted"
    assert len(sandbox.messages()) == 1 and answers()[0].attempts == 2


def test_the_workspaces_reply_to_a_stop_reads_as_automatic_in_a_conversations_messages(api, inbox):
    from tests.webhooks.scenarios import configure_webhook

    configure_webhook(opt_out_reply="You won't get our offers any more.")
    wrote(inbox, ANA, 0.5, "STOP")
    messages = api.get(f"/conversations/{contact(ANA).id}/messages").get_json()["data"]
    assert [(m["source"], m["text"], m["sent_by"], m["automatic"]) for m in messages if m["source"] == "answer"] == [
        ("answer", "You won't get our offers any more.", None, True)]

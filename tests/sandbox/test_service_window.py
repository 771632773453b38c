"""Free-form messages go only inside the customer-service window: 24 hours from the customer's last message
to that business number. Outside it Meta accepts the send, then fails it with 131047 in a status webhook;
templates are never bound by the window. Tests move the sandbox's clock per conversation."""
from __future__ import annotations

import pytest

from tests.sandbox.payloads import order_shipped, sent_wamid, statuses_of, text_message

CUSTOMER = "+56961234550"  # its last two digits make a message read, and never answered, in the default profile
MINUTE, HOUR = 60, 3600

FREE_FORM = {
    "text": {"preview_url": False, "body": "Yes, we have it in blue"},
    "image": {"link": "https://cdn.example/blue.jpg", "caption": "In *blue*"},
    "document": {"link": "https://cdn.example/invoice.pdf", "filename": "invoice.pdf"},
    "audio": {"link": "https://cdn.example/note.ogg"},
    "video": {"link": "https://cdn.example/clip.mp4"},
    "sticker": {"link": "https://cdn.example/smile.webp"},
    "location": {"latitude": -33.45, "longitude": -70.66, "name": "Our shop", "address": "Av. Italia 1200"},
    "contacts": [{"name": {"formatted_name": "Ana Pérez", "first_name": "Ana"},
                  "phones": [{"phone": "+56961234599", "type": "WORK"}]}],
    "reaction": {"message_id": "wamid.HBgLNTY5NjEyMzQ1NTAVAgASGBQzQUZCMDdGNkU0QUEzQTNCRjZBMQA=", "emoji": "👍"},
    "interactive": {"type": "button", "body": {"text": "Shall we book Friday?"},
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}},
}


def free_form(kind: str, to: str = CUSTOMER) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind,
            kind: FREE_FORM[kind]}


def customer_wrote(sandbox, ago: float | None, number: str = CUSTOMER) -> dict:
    field = {"customer_wrote_ago": ago} if ago is not None else {"customer_wrote_at": None}
    return sandbox.control("POST", "service-window", json={"number": number, **field})


def fate(sandbox, webhooks, body: dict) -> list[dict]:
    """The status webhooks of one send, once it has met its end (failed, or read)."""
    wamid = sent_wamid(sandbox.send(body))
    webhooks.wait_for(lambda w: {s["status"] for s in statuses_of(w, wamid)} & {"failed", "read"})
    return statuses_of(webhooks, wamid)


def test_a_text_23_59_after_the_customer_wrote_is_delivered(sandbox, webhooks):
    customer_wrote(sandbox, 23 * HOUR + 59 * MINUTE)

    statuses = fate(sandbox, webhooks, text_message(CUSTOMER, "Yes, it is!"))

    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0]["pricing"]["type"] == "free_customer_service"


def test_a_text_24_01_after_the_customer_wrote_fails_with_131047(sandbox, webhooks):
    customer_wrote(sandbox, 24 * HOUR + MINUTE)

    [failed] = fate(sandbox, webhooks, text_message(CUSTOMER, "Yes, it is!"))

    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message"
    assert "24 hours" in failed["errors"][0]["error_data"]["details"]


@pytest.mark.parametrize("kind", sorted(FREE_FORM))
def test_every_free_form_type_is_bound_by_the_window(sandbox, webhooks, kind):
    sandbox.configure(pair_interval=0)
    customer_wrote(sandbox, 24 * HOUR + MINUTE)
    [failed] = fate(sandbox, webhooks, free_form(kind))
    assert failed["errors"][0]["code"] == 131047

    customer_wrote(sandbox, HOUR)
    assert [s["status"] for s in fate(sandbox, webhooks, free_form(kind))] == ["sent", "delivered", "read"]


def test_a_customer_who_never_wrote_gets_no_free_form_message(sandbox, webhooks):
    customer_wrote(sandbox, HOUR)
    customer_wrote(sandbox, None)  # forgotten again

    [failed] = fate(sandbox, webhooks, free_form("image"))

    assert failed["errors"][0]["code"] == 131047


def test_templates_are_never_bound_by_the_window(sandbox, webhooks):
    customer_wrote(sandbox, 30 * 24 * HOUR)

    statuses = fate(sandbox, webhooks, order_shipped(CUSTOMER))

    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]


def test_the_window_opens_when_the_customer_writes_and_says_when_it_closes(sandbox, webhooks):
    assert sandbox.control("GET", "service-window", params={"number": CUSTOMER})["open"] is False

    sandbox.control("POST", "inbound", json={"from": CUSTOMER, "text": "Hi"})
    window = sandbox.control("GET", "service-window", params={"number": CUSTOMER})

    assert window["open"] is True and window["wa_id"] == "56961234550"
    assert window["closes_at"] > window["customer_wrote_at"]
    moved = customer_wrote(sandbox, 24 * HOUR + MINUTE)
    assert moved["open"] is False


def test_a_window_request_that_makes_no_sense_is_refused(sandbox):
    for spec in ({"number": CUSTOMER}, {"number": "not a number", "customer_wrote_ago": 1},
                 {"number": CUSTOMER, "customer_wrote_ago": "yesterday"}):
        answer = sandbox.http.post(f"{sandbox.base_url}/_sandbox/service-window", json=spec, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]

"""The sandbox calls the app's webhook as Meta does: signed, in Meta's envelope, with statuses,
failures, replies and opt-outs, retried until answered 200, and optionally batched, duplicated and
shuffled (reference §3)."""
from __future__ import annotations

import hashlib
import hmac
import json

from tests.sandbox.harness import APP_SECRET, DISPLAY_NUMBER, PHONE_NUMBER_ID, WABA_ID
from tests.sandbox.payloads import order_shipped, seasonal_promo, sent_wamid, statuses_of, text_message


def test_signature_is_hmac_sha256_of_the_raw_body_with_the_app_secret(sandbox, webhooks):
    sandbox.send(order_shipped("+56961234500"))  # 00: fails 131026, whose errors[].href has slashes
    webhooks.wait_for(lambda w: w.received)
    [webhook] = webhooks.received
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), webhook.body, hashlib.sha256).hexdigest()
    assert webhook.headers["X-Hub-Signature-256"] == expected
    # Meta escapes "/" (and non-ASCII): a signature checked over re-serialised JSON would not match.
    assert b"https:\\/\\/developers.facebook.com" in webhook.body
    reserialised = json.dumps(webhook.payload).encode()
    assert "sha256=" + hmac.new(APP_SECRET.encode(), reserialised, hashlib.sha256).hexdigest() != expected


def test_statuses_come_in_metas_envelope_sent_then_delivered_then_read(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(order_shipped("+56961234550", biz_opaque_callback_data="rcpt:48213")))
    webhooks.wait_for(lambda w: len(statuses_of(w, wamid)) == 3)
    payload = webhooks.received[0].payload
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == WABA_ID
    [change] = entry["changes"]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert change["value"]["metadata"] == {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
    sent, delivered, read = statuses_of(webhooks, wamid)
    assert [s["status"] for s in (sent, delivered, read)] == ["sent", "delivered", "read"]
    for status in (sent, delivered, read):
        assert status["recipient_id"] == "56961234550"
        assert status["biz_opaque_callback_data"] == "rcpt:48213"
        assert status["timestamp"].isdigit()
    assert sent["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert "pricing" in delivered and "pricing" not in read


def test_undeliverable_message_fails_with_metas_errors_array(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(order_shipped("+56961234501", biz_opaque_callback_data="rcpt:1")))
    [failed] = webhooks.wait_for(lambda w: statuses_of(w, wamid))
    assert failed["status"] == "failed"
    assert failed["biz_opaque_callback_data"] == "rcpt:1"
    [error] = failed["errors"]
    assert error["code"] == 131026
    assert error["title"] == error["message"] == "Message undeliverable"
    assert error["error_data"]["details"] and error["href"].startswith("https://developers.facebook.com/")


def test_marketing_cap_failure_carries_no_callback_data(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(seasonal_promo("+56961234505", biz_opaque_callback_data="rcpt:2")))
    [failed] = webhooks.wait_for(lambda w: statuses_of(w, wamid))
    assert failed["errors"][0]["code"] == 131049
    assert "biz_opaque_callback_data" not in failed


def test_opted_out_customer_fails_131050_and_reports_a_marketing_stop(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(seasonal_promo("+56961234508", biz_opaque_callback_data="rcpt:3")))
    webhooks.wait_for(lambda w: statuses_of(w, wamid) and w.changes("user_preferences"))
    [failed] = statuses_of(webhooks, wamid)
    assert (failed["errors"][0]["code"], failed["biz_opaque_callback_data"]) == (131050, "rcpt:3")
    [change] = webhooks.changes("user_preferences")
    [preference] = change["value"]["user_preferences"]
    assert (preference["wa_id"], preference["category"], preference["value"]) == (
        "56961234508", "marketing_messages", "stop")
    assert isinstance(preference["timestamp"], int)
    assert change["value"]["contacts"][0]["wa_id"] == "56961234508"


def test_text_reply_quotes_the_message_it_answers(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(order_shipped("+56961234570")))
    [change] = webhooks.wait_for(lambda w: w.changes("messages") and [c for c in w.changes("messages")
                                                                        if "messages" in c["value"]])
    value = change["value"]
    assert value["contacts"][0]["wa_id"] == "56961234570" and value["contacts"][0]["profile"]["name"]
    [message] = value["messages"]
    assert (message["from"], message["type"]) == ("56961234570", "text")
    assert message["text"]["body"]
    assert message["context"] == {"from": DISPLAY_NUMBER, "id": wamid}
    assert message["id"].startswith("wamid.") and message["id"] != wamid


def test_quick_reply_press_carries_the_payload_sent_and_the_button_label(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(seasonal_promo("+56961234580")))
    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["type"] == "button"
    assert message["button"] == {"payload": "YES_OFFER", "text": "Yes please"}
    assert message["context"]["id"] == wamid


def test_stop_and_out_of_context_replies_quote_nothing(sandbox, webhooks):
    sandbox.send(order_shipped("+56961234590"))
    sandbox.send(order_shipped("+56961234595"))
    webhooks.wait_for(lambda w: len(w.inbound_messages()) == 2)
    by_sender = {m["from"]: m for m in webhooks.inbound_messages()}
    assert by_sender["56961234590"]["text"]["body"] == "STOP"
    assert "context" not in by_sender["56961234590"] and "context" not in by_sender["56961234595"]


def test_webhook_is_retried_with_the_same_body_until_the_app_answers_200(sandbox, webhooks):
    webhooks.answer_next(500, 503)
    sandbox.send(order_shipped("+56961234510"))  # 10: sent only, one status
    webhooks.wait_for(lambda w: w.accepted())
    assert [w.answered for w in webhooks.received] == [500, 503, 200]
    assert len({(w.body, w.headers["X-Hub-Signature-256"]) for w in webhooks.received}) == 1
    sandbox.wait_until(lambda s: s.stats()["webhooks"]["delivered"] == 1)  # it learns of the 200 after we do
    stats = sandbox.stats()["webhooks"]
    assert (stats["delivered"], stats["attempts"], stats["failed_attempts"]) == (1, 3, 2)


def test_webhook_is_dropped_after_the_last_attempt(sandbox, webhooks):
    sandbox.configure(webhook_max_attempts=2)
    webhooks.answer_next(500, 500)
    sandbox.send(order_shipped("+56961234510"))
    webhooks.wait_for(lambda w: len(w.received) == 2)
    sandbox.wait_until(lambda s: s.stats()["webhooks"]["gave_up"] == 1)
    [delivery] = sandbox.control("GET", "webhooks")["data"]
    assert delivery["gave_up"] and [a["status"] for a in delivery["attempts"]] == [500, 500]


def test_an_app_down_for_many_attempts_still_gets_its_webhook_as_meta_keeps_trying(sandbox, webhooks):
    sandbox.configure(webhook_retry_max=0.1)  # by default up to 5 minutes apart, for 7 days
    webhooks.answer_next(*[503] * 12)
    sandbox.send(order_shipped("+56961234510"))
    webhooks.wait_for(lambda w: w.accepted())
    assert [w.answered for w in webhooks.received] == [503] * 12 + [200]
    sandbox.wait_until(lambda s: s.stats()["webhooks"]["delivered"] == 1)
    assert sandbox.stats()["webhooks"]["gave_up"] == 0


def test_undelivered_webhooks_are_listed_with_their_next_attempt_until_the_horizon(sandbox, webhooks):
    sandbox.configure(webhook_retry_base=0.2, webhook_give_up_after=1.0)
    webhooks.answer_next(*[500] * 100)
    sandbox.send(order_shipped("+56961234510"))
    [pending] = sandbox.wait_until(lambda s: [d for d in s.control("GET", "webhooks/pending")["data"]
                                              if len(d["attempts"]) == 2])
    assert [a["status"] for a in pending["attempts"]] == [500, 500] and pending["next_attempt_at"]
    assert sandbox.stats()["webhooks"]["pending"] == 1
    sandbox.wait_until(lambda s: s.stats()["webhooks"]["gave_up"] == 1)  # 0.2 + 0.4 + 0.8 s would pass 1 s
    assert sandbox.control("GET", "webhooks/pending")["data"] == []
    assert len(webhooks.received) == 3


def test_batching_puts_several_statuses_in_one_post(sandbox, webhooks):
    sandbox.configure(webhook_batch=10, webhook_batch_wait=0.1)
    for n in range(10, 15):  # 10-19: sent only
        sandbox.send(order_shipped(f"+569612345{n}"))
    webhooks.wait_for(lambda w: len(w.statuses()) == 5)
    assert len(webhooks.received) < 5
    assert max(len(v["statuses"]) for w in webhooks.received for v in w.values) > 1


def test_duplicates_option_delivers_the_same_post_twice(sandbox, webhooks):
    sandbox.configure(webhook_duplicates=1.0)
    sandbox.send(order_shipped("+56961234510"))
    webhooks.wait_for(lambda w: len(w.received) == 2)
    first, second = webhooks.received
    assert first.body == second.body
    assert sandbox.stats()["webhooks"]["duplicates"] == 1


def test_shuffle_option_delivers_statuses_out_of_order(sandbox, webhooks):
    sandbox.configure(webhook_shuffle=1.0)
    wamids = [sent_wamid(sandbox.send(order_shipped(f"+569612345{n}"))) for n in range(50, 56)]  # all read
    webhooks.wait_for(lambda w: len(w.statuses()) == 18)
    orders = [[s["status"] for s in statuses_of(webhooks, wamid)] for wamid in wamids]
    assert any(order != ["sent", "delivered", "read"] for order in orders)


def test_text_outside_the_service_window_fails_131047_until_the_customer_writes(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(text_message("+56961234550", "Your order is ready")))
    [failed] = webhooks.wait_for(lambda w: statuses_of(w, wamid))
    assert failed["errors"][0]["code"] == 131047
    written = sandbox.control("POST", "inbound", json={"from": "+56961234551", "text": "Hi, is my order ready?"})
    [inbound] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert inbound["id"] == written["message"]["id"]
    assert (inbound["from"], inbound["text"]["body"]) == ("56961234551", "Hi, is my order ready?")
    wamid = sent_wamid(sandbox.send(text_message("+56961234551", "Yes, it is!")))
    webhooks.wait_for(lambda w: len(statuses_of(w, wamid)) == 3)
    assert statuses_of(webhooks, wamid)[0]["pricing"]["type"] == "free_customer_service"


def test_webhook_subscription_handshake_echoes_the_challenge(sandbox):
    result = sandbox.control("POST", "verify-webhook")
    assert result["verified"] is True and result["answer"] == result["challenge"]


def test_ledger_shows_what_happened_to_each_message(sandbox, webhooks):
    wamid = sent_wamid(sandbox.send(order_shipped("+56961234570")))
    webhooks.wait_for(lambda w: w.inbound_messages())
    record = sandbox.control("GET", f"messages/{wamid}")
    assert (record["outcome"], record["status"]) == ("reply", "read")
    assert [e["kind"] for e in record["events"]] == ["status", "status", "status", "reply"]
    assert sandbox.control("GET", "inbound")["data"][0]["wa_id"] == "56961234570"

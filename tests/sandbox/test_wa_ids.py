"""The WhatsApp id Meta answers a send with is not always the number it was sent to: a Brazilian mobile's
ninth digit is dropped, a Mexican mobile gains its 1. The sandbox does the same, and its customer writes,
stops and is reported from that id, as Meta's would be."""
from __future__ import annotations

import pytest

from tests.sandbox.payloads import order_shipped, seasonal_promo


@pytest.mark.parametrize("to, wa_id", [
    ("+55 11 98765-4321", "551187654321"),   # Brazilian mobile: the ninth digit goes
    ("+55 (21) 99876-5432", "552198765432"),
    ("+52 55 1234 5678", "5215512345678"),  # Mexican mobile: the 1 comes back
    ("+55 11 3333-4444", "551133334444"),   # a Brazilian landline has no ninth digit
    ("+521 55 1234 5678", "5215512345678"),
    ("+56 9 6123-4567", "56961234567"),
])
def test_the_send_answer_carries_the_wa_id_meta_would_report(sandbox, to, wa_id):
    answer = sandbox.send(order_shipped(to)).json()
    assert answer["contacts"] == [{"input": to, "wa_id": wa_id}]


def test_the_customer_of_a_brazilian_number_stops_from_the_wa_id(sandbox, webhooks):
    wamid = sandbox.send(order_shipped("+5511987654390")).json()["messages"][0]["id"]  # 90: reads, then STOP
    [stop] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert (stop["from"], stop["text"]["body"]) == ("551187654390", "STOP")
    assert {s["recipient_id"] for s in webhooks.statuses() if s["id"] == wamid} == {"551187654390"}
    [record] = sandbox.messages(to="+55 11 98765-4390")  # found by the number it was sent to
    assert (record["to"], record["wa_id"]) == ("+5511987654390", "551187654390")


def test_a_marketing_stop_of_a_brazilian_number_comes_from_the_wa_id(sandbox, webhooks):
    sandbox.send(seasonal_promo("+5511987654308"))  # 08: opted out of marketing
    [change] = webhooks.wait_for(lambda w: w.changes("user_preferences"))
    assert change["value"]["user_preferences"][0]["wa_id"] == "551187654308"


def test_a_customer_writing_from_a_brazilian_number_writes_from_the_wa_id(sandbox, webhooks):
    sandbox.control("POST", "inbound", json={"from": "+55 11 98765-4321", "text": "Oi"})
    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["from"] == "551187654321"

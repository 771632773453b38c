"""The deterministic profile: a message's fate follows from its number and the seed, so `plan_for`
predicts every webhook and every counter exactly."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.sandbox.payloads import order_shipped, seasonal_promo
from webapp.sandbox.profile import Outcome, plan_for


@pytest.mark.parametrize(("number", "outcome"), [
    ("+15550000000", Outcome.UNDELIVERABLE), ("+15550000004", Outcome.UNDELIVERABLE),
    ("+15550000005", Outcome.MARKETING_CAP), ("+15550000008", Outcome.OPTED_OUT),
    ("+15550000010", Outcome.SENT), ("+15550000020", Outcome.DELIVERED), ("+15550000039", Outcome.DELIVERED),
    ("+15550000040", Outcome.READ), ("+15550000070", Outcome.REPLY), ("+15550000080", Outcome.BUTTON),
    ("+15550000090", Outcome.STOP), ("+15550000099", Outcome.REPLY_NO_CONTEXT),
])
def test_last_two_digits_choose_the_outcome(number, outcome):
    assert plan_for(number).outcome is outcome


def test_the_seed_shifts_the_table():
    assert plan_for("+15550000040", seed=0).outcome is Outcome.READ
    assert plan_for("+15550000040", seed=30).outcome is Outcome.REPLY
    assert plan_for("+15550000099", seed=1).outcome is Outcome.UNDELIVERABLE  # wraps around


def test_marketing_only_failures_are_read_for_other_messages():
    assert plan_for("+15550000005", marketing=False).outcome is Outcome.READ
    assert plan_for("+15550000008", marketing=False).outcome is Outcome.READ


def test_plans_say_what_each_outcome_sends():
    assert plan_for("+15550000008").statuses == ("failed",) and plan_for("+15550000008").opts_out
    assert plan_for("+15550000020").statuses == ("sent", "delivered")
    stop = plan_for("+15550000090")
    assert (stop.statuses, stop.reply, stop.reply_text, stop.reply_context) == (
        ("sent", "delivered", "read"), "stop", "STOP", False)
    assert plan_for("+15550000070").reply_context and not plan_for("+15550000095").reply_context


def test_same_number_and_seed_give_the_same_plan_everywhere():
    assert plan_for("+56961234577", seed=3) == plan_for("56961234577", seed=3)


def reply_kind(message: dict) -> str:
    """The plan's word for an inbound message: button, stop or text."""
    if message["type"] == "button":
        return "button"
    return "stop" if message["text"]["body"] == "STOP" else "text"


def test_observed_webhooks_match_the_plans_exactly(sandbox, webhooks):
    seed = 7
    sandbox.configure(seed=seed)
    numbers = [f"+569612340{n:02d}" for n in range(0, 100, 5)]
    wamids = {}
    for number in numbers:
        response = sandbox.send(seasonal_promo(number, biz_opaque_callback_data=f"rcpt:{number}"))
        assert response.status_code == 200, response.text
        wamids[response.json()["messages"][0]["id"]] = number
    plans = {number: plan_for(number, seed) for number in numbers}
    expected_statuses = sum(len(p.statuses) for p in plans.values())
    expected_replies = sum(p.replied for p in plans.values())
    expected_opt_outs = sum(p.opts_out for p in plans.values())
    webhooks.wait_for(lambda w: len(w.statuses()) == expected_statuses
                      and len(w.inbound_messages()) == expected_replies
                      and len(w.changes("user_preferences")) == expected_opt_outs)

    observed = {number: [] for number in numbers}
    for status in webhooks.statuses():
        observed[wamids[status["id"]]].append(status["status"])
    assert observed == {number: list(plan.statuses) for number, plan in plans.items()}
    failures = Counter(s["errors"][0]["code"] for s in webhooks.statuses() if s["status"] == "failed")
    assert failures == Counter(p.error_code for p in plans.values() if p.error_code)
    replies = Counter(reply_kind(m) for m in webhooks.inbound_messages())
    assert replies == Counter(p.reply for p in plans.values() if p.replied)
    assert {r["outcome"] for r in sandbox.messages()} == {p.outcome.value for p in plans.values()}


def test_utility_messages_to_marketing_failure_numbers_are_read(sandbox, webhooks):
    sandbox.send(order_shipped("+56961234505"))
    sandbox.send(order_shipped("+56961234508"))
    webhooks.wait_for(lambda w: len(w.statuses()) == 6)
    assert Counter(s["status"] for s in webhooks.statuses()) == {"sent": 2, "delivered": 2, "read": 2}
    assert webhooks.changes("user_preferences") == []

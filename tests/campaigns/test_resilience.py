"""The send pipeline with real worker processes: slices and turns, a failing API, lost answers, many workers.
(A worker or work-horse killed and a flushed Redis are trials of tests/reliability/.)"""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from tests import factories
from tests.processes import wait_until
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.senders.models import Template

# Several workers on one database: run on PostgreSQL, where production runs several senders (the reliability
# trials run workers on both databases).
pytestmark = [pytest.mark.slow, pytest.mark.only_on("postgresql")]

VARIABLES = {"body:1": {"source": "name", "fallback": "there"}, "body:2": {"source": "constant", "value": "#1"},
             "body:3": {"source": "constant", "value": "Friday"}}


def _campaign(sender, size: int, prefix: str = "+1555030") -> Campaign:
    people = [(f"{prefix}{i:04d}", f"Customer {i}", {}) for i in range(size)]
    customers = factories.contact_list(f"Customers {prefix}", people)
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft("Resilience", sender.id, template.id, [customers.id],
                                                  variables=VARIABLES))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    return campaign


def _status(campaign_id: int) -> str:
    db.session.commit()
    return db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


def _finished(campaign_id: int):
    return _status(campaign_id) in ("sent", "partially_sent", "failed")


def _rows(campaign_id: int) -> dict[str, str]:
    db.session.commit()
    return dict(db.session.execute(select(Recipient.phone, Recipient.status)
                                   .where(Recipient.campaign_id == campaign_id)).all())


def _no_number_twice(sandbox) -> Counter:
    sent = Counter(m["to"] for m in sandbox.messages(limit=10000))
    assert [phone for phone, n in sent.items() if n > 1] == []
    return sent


def _arrivals(sandbox, prefix: str) -> list[float]:
    return sorted(m["accepted_ts"] for m in sandbox.messages(limit=10000) if m["to"].startswith(prefix))


def test_a_campaign_alone_on_its_worker_keeps_it_from_slice_to_slice(app, sandbox, sandbox_sender, processes):
    from rq.registry import FinishedJobRegistry

    from webapp.queues import queue

    campaign = _campaign(sandbox_sender, 150, prefix="+1555060")
    group = processes(DISPATCHERS_PER_CAMPAIGN=1, DISPATCH_SLICE_SECONDS=1)
    group.worker("control,default")  # as the Procfile runs them: launches and ticks here,
    group.worker("control,dispatch")  # sending here
    group.cron()
    wait_until(lambda: _finished(campaign.id), 60, message="completion", processes=group)

    assert len(_arrivals(sandbox, "+1555060")) == 150
    # Three slices of a second at 50/s, and nobody else waiting for the worker: one job sent them all, where
    # handing over to a new job at each slice left the number idle for up to a second each time.
    assert FinishedJobRegistry(queue=queue("dispatch")).count <= 2  # 2: a tick may have queued one meanwhile


def test_two_campaigns_on_one_worker_take_turns_slice_by_slice(app, sandbox, sandbox_sender, processes):
    first = _campaign(sandbox_sender, 150, prefix="+1555061")
    second = _campaign(sandbox_sender, 150, prefix="+1555062")
    group = processes(DISPATCH_SLICE_SECONDS=1)  # two slots per campaign, as by default
    group.worker("control,default")
    group.worker("control,dispatch")
    group.cron()
    wait_until(lambda: _finished(first.id) and _finished(second.id), 60, message="completion", processes=group)

    one, other = _arrivals(sandbox, "+1555061"), _arrivals(sandbox, "+1555062")
    assert len(one) == len(other) == 150
    # Neither waited for the other to finish: each began before the other ended.
    assert one[0] < other[-1] and other[0] < one[-1]
    # Once the campaign that started second was ready to send (its launch done), it waited for the other's turn (a
    # one-second slice at 50/s, and the requests it already had under way), never for a whole campaign. Which job
    # takes the next turn is tested in test_turns.py; here real processes keep to it: 45 to 79 sends measured.
    first_turn, second_turn = (one, other) if one[0] < other[0] else (other, one)
    db.session.commit()
    ready = db.session.scalar(select(Campaign.started_at).where(
        Campaign.id == (second.id if second_turn is other else first.id))).timestamp()
    assert len([at for at in first_turn if ready <= at < second_turn[0]]) <= 100
    assert len(_no_number_twice(sandbox)) == 300


@pytest.fixture
def webhooks_to_app(app, sandbox, live_server):
    """The sandbox calls the app's real webhook endpoint, signed with the secret the app expects."""
    app.config["META_APP_SECRET"] = "sandbox-app-secret"
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.3, delivered_delay=0.6,
                      read_delay=0.9, reply_delay=1.2, delay_jitter=0.1)


def _applied_events() -> int:
    from webapp.webhooks.models import WebhookEvent

    db.session.commit()
    return db.session.scalar(select(db.func.count()).where(WebhookEvent.status == "applied"))


@pytest.mark.flow
def test_a_failing_api_is_retried_until_the_campaign_completes(app, sandbox, sandbox_sender, processes,
                                                               webhooks_to_app):
    campaign = _campaign(sandbox_sender, 150)
    group = processes()
    group.worker()
    group.cron()
    wait_until(lambda: _applied_events() >= 5, 30, message="the first webhooks", processes=group)
    sandbox.fault(status=500, count=30)
    sandbox.fault(timeout=True, seconds=3, count=5)               # never accepted: retried after the grace
    sandbox.fault(timeout=True, seconds=3, count=5, accept=True)  # accepted, answer lost: its webhook settles it
    wait_until(lambda: _finished(campaign.id), 90, message="completion", processes=group)

    sent = _no_number_twice(sandbox)
    assert len(sent) == 150
    rows = _rows(campaign.id)
    assert all(status in ("accepted", "sent", "delivered", "read", "replied", "failed") for status in rows.values())
    assert sandbox.stats()["errors"].get("131000") == 30  # the 500s were answered, and retried


@pytest.mark.flow
def test_a_timeout_with_no_webhooks_reaching_us_is_left_unknown_not_sent_again(app, sandbox, sandbox_sender,
                                                                               processes):
    sandbox.fault(timeout=True, seconds=3, count=3, accept=True)
    campaign = _campaign(sandbox_sender, 20)
    group = processes()
    group.worker()
    group.cron()
    wait_until(lambda: _finished(campaign.id), 60, message="completion", processes=group)

    _no_number_twice(sandbox)
    assert Counter(_rows(campaign.id).values()) == {"accepted": 17, "unknown": 3}
    assert _status(campaign.id) == "partially_sent"


def test_four_workers_together_keep_to_the_numbers_rate(app, sandbox, sandbox_sender, processes):
    workers = 4
    campaign = _campaign(sandbox_sender, 250, prefix="+1555044")
    group = processes(DISPATCHERS_PER_CAMPAIGN=workers)
    for _ in range(workers):
        group.worker()
    group.cron()
    wait_until(lambda: _finished(campaign.id), 60, message="completion", processes=group)

    stats = sandbox.stats()
    assert stats["rate_limited"] == 0
    assert stats["busiest_window"]["100000000000001"]["requests"] <= 50
    assert len(_no_number_twice(sandbox)) == 250

"""Sending workers shared fairly between campaigns: a campaign's second dispatcher never takes a worker that another
campaign's first one needs (five campaigns launched together on five sending workers: bench/five_numbers.py)."""
from __future__ import annotations

import pytest
from rq import Worker

from tests import factories
from webapp.campaigns.queueing import enqueue_dispatchers, enqueue_launch
from webapp.extensions import db
from webapp.queues import queue, redis_client


@pytest.fixture
def sending_workers(app):
    """Five live sending workers, as `flask worker --queues control,dispatch` registers them."""
    app.config.update(WORKER_CHECK_SECONDS=0, DISPATCHERS_PER_CAMPAIGN=2)
    for number in range(5):
        Worker([queue("control"), queue("dispatch")], connection=redis_client(), name=f"sender-{number}"
               ).register_birth()


def _queued_dispatchers() -> list[tuple[int, int]]:
    return sorted(tuple(job.args) for job in queue("dispatch").get_jobs())


def test_five_campaigns_launched_together_on_five_sending_workers_get_a_dispatcher_each(sending_workers):
    first = factories.campaign("queued", name="Campaign 0", phones=["+15550500000"])
    campaigns = [first] + [factories.campaign("queued", name=f"Campaign {n}", phones=[f"+1555050{n:04d}"],
                                              sender=first.sender) for n in range(1, 5)]
    db.session.commit()
    for campaign in campaigns:
        enqueue_launch(campaign.id)

    # The first launch is done while the other four wait for theirs: it does not queue its second dispatcher.
    enqueue_dispatchers(campaigns[0].id)
    assert _queued_dispatchers() == [(campaigns[0].id, 0)]

    for campaign in campaigns[1:]:
        enqueue_dispatchers(campaign.id)
    assert _queued_dispatchers() == [(campaign.id, 0) for campaign in campaigns]


def test_a_campaign_alone_gets_its_second_dispatcher_and_two_share_the_workers(sending_workers):
    first = factories.campaign("sending", name="First", phones=["+15550510001"])
    second = factories.campaign("sending", name="Second", phones=["+15550510002"], sender=first.sender)
    db.session.commit()

    enqueue_dispatchers(first.id)
    assert _queued_dispatchers() == [(first.id, 0), (first.id, 1)]

    enqueue_dispatchers(second.id)  # five workers: two dispatchers each leave one idle, none waits
    assert _queued_dispatchers() == [(first.id, 0), (first.id, 1), (second.id, 0), (second.id, 1)]

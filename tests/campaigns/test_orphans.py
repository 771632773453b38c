"""Rows left `sending` by a dispatcher that died: the campaign resolves them by itself and sends nothing twice."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import select

from jobs.campaigns import sweep
from tests.campaigns.sending import launch, rows_by_phone, send_all
from webapp.campaigns.dispatch import Dispatcher
from webapp.campaigns.lifecycle import claim, counts, recount
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.timestamps import utcnow

PEOPLE = [(f"+1555090{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(12)]


def _died_with_claims(campaign_id: int, claimed: int, sent: int) -> Dispatcher:
    """A dispatcher of slot 1 that claimed rows, sent the first few of them, and was killed (kill -9)."""
    dead = Dispatcher(campaign_id, slot=1)
    assert dead.lease.acquire()
    dead.ledger.open()
    rows = claim(db.session, campaign_id, claimed, utcnow(), token=dead.lease.token)
    db.session.commit()
    assert dead.ledger.leaving([row.id for row in rows[:sent]])
    with dead.client.sends(in_flight=4) as sends:
        for future in sends.submit([dead._send(sends, row, time.monotonic()) for row in rows[:sent]]):
            assert future.result().result is not None  # reached Meta; the answer died with the process
    return dead


@pytest.mark.parametrize("slot_now", ["lapsed", "taken over"])
def test_rows_a_killed_dispatcher_claimed_are_resolved_by_the_sweep_whoever_holds_the_slot_now(
        app, sandbox, sandbox_sender, slot_now):
    campaign = launch(sandbox_sender, PEOPLE)
    dead = _died_with_claims(campaign.id, claimed=8, sent=3)
    if slot_now == "lapsed":
        redis_client().delete(dead.lease.key)
    else:  # the tick started slot 1 again: a live dispatcher holds the slot, with another token
        redis_client().set(dead.lease.key, "another-dispatcher", px=10_000)

    assert sweep() == 8
    statuses = Counter(row.status for row in rows_by_phone(campaign.id).values())
    # The five that never left are queued again; the three whose request left wait for the operator (no webhook
    # reaches us here, so nobody could tell whether Meta took them).
    assert statuses == {"pending": 9, "unknown": 3}

    redis_client().delete(dead.lease.key)
    finished = send_all(campaign.id)
    assert finished.status == "partially_sent"
    assert Counter(m["to"] for m in sandbox.messages(limit=100)).most_common(1)[0][1] == 1  # nobody twice
    assert len(sandbox.messages(limit=100)) == 12
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)


def test_the_campaigns_own_dispatcher_resolves_the_rows_of_a_dead_one_and_completes(app, sandbox, sandbox_sender):
    app.config["DISPATCH_SLICE_SECONDS"] = 2
    campaign = launch(sandbox_sender, PEOPLE)
    dead = _died_with_claims(campaign.id, claimed=5, sent=0)
    redis_client().delete(dead.lease.key)

    assert Dispatcher(campaign.id).run() == "done"  # no sweep, no operator
    db.session.commit()
    assert db.session.scalar(select(Campaign.status).where(Campaign.id == campaign.id)) == "sent"
    assert sorted(m["to"] for m in sandbox.messages(limit=100)) == sorted(p for p, _, _ in PEOPLE)


def test_a_dispatcher_that_comes_back_after_its_claim_was_resolved_sends_none_of_it(app, sandbox, sandbox_sender):
    campaign = launch(sandbox_sender, PEOPLE)
    frozen = _died_with_claims(campaign.id, claimed=4, sent=0)
    redis_client().delete(frozen.lease.key)  # it froze longer than its lease
    sweep()

    frozen.lease.refreshed = 0
    assert frozen.lease.refresh()  # it wakes up and takes its lease again…
    assert not frozen.ledger.leaving([1])  # …but may send nothing it claimed before


def test_a_worker_that_sees_its_work_horse_die_frees_the_dispatchers_slot_at_once(app, sandbox, sandbox_sender):
    from jobs.campaigns import work_horse_killed
    from webapp.campaigns.dispatch import DISPATCH_JOB
    from webapp.queues import queue

    campaign = launch(sandbox_sender, PEOPLE)
    dead = _died_with_claims(campaign.id, claimed=4, sent=0)
    job = queue("dispatch").enqueue(DISPATCH_JOB, campaign.id, 1)

    work_horse_killed(job, 4242, 9, None)  # RQ's hook, in the worker, when waitpid says SIGKILL
    assert not redis_client().exists(dead.lease.key)  # not 10 s later: its rows are resolved now
    assert sweep() == 4

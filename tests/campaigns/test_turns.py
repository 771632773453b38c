"""Campaigns that share one sending worker take turns, and the one that waits says what it waits for."""
from __future__ import annotations

import time
from datetime import timedelta

from rq.job import Job

from tests.campaigns.sending import launch
from webapp import queues
from webapp.campaigns.dispatch import DISPATCH_JOB, Dispatcher
from webapp.campaigns.orphans import lease_key
from webapp.campaigns.queueing import enqueue_dispatchers
from webapp.extensions import db
from webapp.queues import queue, redis_client
from webapp.timestamps import utcnow


def _people(prefix: str) -> list[tuple]:
    return [(f"{prefix}{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(5)]


def _queued_a_while_ago(job: Job) -> None:
    job.enqueued_at = utcnow() - timedelta(seconds=5)
    job.save()


def test_a_campaigns_second_slot_gives_its_turn_to_another_campaign_waiting_for_the_worker(
        app, sandbox, sandbox_sender, monkeypatch):
    first = launch(sandbox_sender, _people("+1555091"), name="First", list_name="First list")
    second = launch(sandbox_sender, _people("+1555092"), name="Second", list_name="Second list")
    waiting = queue("dispatch").enqueue(DISPATCH_JOB, second.id, 0)
    _queued_a_while_ago(waiting)
    monkeypatch.setattr(queues, "_served", ("control", "dispatch"))  # as in the sending worker

    # The first campaign's slot 0 had the worker's last turn; its slot 1 must not take the next one too: it goes
    # back to the end of the queue at once, not after a slice of its own.
    started = time.monotonic()
    assert Dispatcher(first.id, slot=1).run() == "continue"
    assert time.monotonic() - started < 2
    assert not redis_client().exists(lease_key(first.id, 1))
    assert sandbox.messages() == []


def test_a_campaign_waiting_for_the_sending_worker_says_which_campaign_is_sending(
        app, sandbox, sandbox_sender, staff_client):
    first = launch(sandbox_sender, _people("+1555093"), name="Spring sale", list_name="First list")
    second = launch(sandbox_sender, _people("+1555094"), name="Autumn news", list_name="Second list")
    redis_client().set(lease_key(first.id, 0), "its-dispatcher", px=10_000)
    enqueue_dispatchers(second.id)
    db.session.commit()

    # In the counters the campaign page polls, so the notice comes and goes without a reload.
    html = staff_client.get(f"/campaigns/{second.id}/live/counters").get_data(as_text=True)
    assert "Waiting for the sending worker: campaign “Spring sale” is sending" in html
    assert "Waiting for the sending worker" not in staff_client.get(
        f"/campaigns/{first.id}/live/counters").get_data(as_text=True)


def test_a_second_slot_does_not_hold_the_only_worker_while_slot_0_waits_behind_it_to_send_the_canary(
        app, sandbox, sandbox_sender):
    # A campaign just (re)started sending: no message of it was accepted yet, so slot 0 alone sends, one request
    # at a time. With one sending worker (as `make run` starts), slot 1's job may get the worker first; slot 0 is
    # queued behind it. Slot 1 gives the worker back at once instead of waiting a whole job for that canary.
    campaign = launch(sandbox_sender, _people("+1555095"), name="Resumed", list_name="Resumed list")
    started = time.monotonic()
    assert Dispatcher(campaign.id, slot=1).run() == "continue"
    assert time.monotonic() - started < 2
    assert not redis_client().exists(lease_key(campaign.id, 1))
    assert sandbox.messages() == []  # the canary is slot 0's

    assert Dispatcher(campaign.id, slot=0).run() == "done"
    assert len(sandbox.messages()) == 5

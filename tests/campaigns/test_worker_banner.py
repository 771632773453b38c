"""A campaign whose queue no worker serves says so, on its page (the counters it polls) and on the dashboard."""
from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from rq import Worker
from rq.utils import utcformat

from tests import factories
from tests.processes import ProcessSet, wait_until
from webapp.queues import queue, redis_client
from webapp.timestamps import utcnow

BANNER = "No worker is running"


@pytest.fixture
def fresh_check(app):
    app.config["WORKER_CHECK_SECONDS"] = 0  # the pages cache the check for a few seconds; here each asks anew
    return app


def _counters(client, campaign) -> str:
    return client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)


def test_a_sending_campaign_with_no_worker_shows_a_banner_on_its_page_and_the_dashboard(fresh_check, staff_client):
    campaign = factories.campaign("sending", phones=["+15550400001"])

    page = _counters(staff_client, campaign)
    dashboard = staff_client.get("/").get_data(as_text=True)

    assert BANNER in page and "send" in page[page.index(BANNER):]
    assert BANNER in dashboard


def test_a_finished_or_paused_campaign_needs_no_worker_and_shows_no_banner(fresh_check, staff_client):
    paused = factories.campaign("paused", phones=["+15550400001"])
    sent = factories.campaign("sent", name="Done", sender=paused.sender)

    assert BANNER not in _counters(staff_client, paused) + _counters(staff_client, sent)
    assert BANNER not in staff_client.get("/").get_data(as_text=True)


def test_a_killed_workers_leftover_record_does_not_count_as_a_worker(fresh_check, staff_client):
    campaign = factories.campaign("sending", phones=["+15550400001"])
    killed = Worker([queue("dispatch")], connection=redis_client())
    killed.register_birth()  # RQ keeps a worker's record for minutes after a kill -9; its heartbeat stops
    redis_client().hset(killed.key, "last_heartbeat", utcformat(utcnow() - timedelta(minutes=1)))

    assert BANNER in _counters(staff_client, campaign)


def test_the_banner_goes_when_a_worker_serves_the_queue_and_comes_back_when_it_stops(
        app, fresh_check, staff_client):
    campaign = factories.campaign("sending", phones=["+15550400001"])
    processes = ProcessSet(app)
    worker = processes.worker("control,dispatch")
    try:
        wait_until(lambda: BANNER not in _counters(staff_client, campaign), 20, message="the banner to go",
                   processes=processes)
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
        assert BANNER in _counters(staff_client, campaign)
    finally:
        processes.stop()

"""Quiet logs: the periodic jobs say nothing when they have nothing to do; every change of a campaign's state is
one INFO line, with the campaign's id and name, once it is committed."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from rq import SimpleWorker

import jobs.campaigns
from jobs.schedule import PERIODIC
from tests import factories
from webapp.campaigns import services
from webapp.campaigns.dispatch import finish_if_done
from webapp.campaigns.outcomes import pause_for
from webapp.extensions import db
from webapp.meta_errors import MetaError
from webapp.queues import queue, redis_client
from webapp.timestamps import utcnow
from webapp.worker import QuietPeriodicJobs


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO)

    def lines() -> list[str]:
        return [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    return lines


@pytest.fixture
def quiet_worker():
    """RQ's worker, in this process, with the filter `flask worker` puts on RQ's log."""
    quiet = QuietPeriodicJobs(PERIODIC)
    logging.getLogger("rq.worker").addFilter(quiet)
    yield SimpleWorker([queue("control")], connection=redis_client())
    logging.getLogger("rq.worker").removeFilter(quiet)


def test_a_tick_with_nothing_to_do_logs_nothing_not_even_rqs_lines_about_it(app, quiet_worker, logged, caplog):
    sender = factories.sender()
    factories.campaign(status="draft", name="Not yet", sender=sender)
    factories.campaign(status="sent", name="Done", sender=sender)
    ticks = [queue("control").enqueue(jobs.campaigns.tick) for _ in range(3)]
    quiet_worker.work(burst=True)

    assert all(job.get_status() == "finished" for job in ticks)
    about_the_ticks = [line for line in logged() if "tick" in line or any(job.id in line for job in ticks)]
    assert about_the_ticks == []
    # Nothing of ours either; what is left is the worker's own start and stop.
    assert [record.getMessage() for record in caplog.records if not record.name.startswith("rq.")] == []


def test_a_failing_periodic_job_still_shows_in_the_log(app, quiet_worker, logged, monkeypatch):
    monkeypatch.setattr(jobs.campaigns, "utcnow", lambda: 1 / 0)
    job = queue("control").enqueue(jobs.campaigns.tick)
    quiet_worker.work(burst=True)
    assert job.get_status() == "failed"
    assert any("ZeroDivisionError" in line for line in logged())


def test_a_due_campaign_is_one_line_when_the_tick_queues_it(app, logged):
    campaign = factories.campaign(status="scheduled", name="Spring sale", scheduled_at=utcnow() - timedelta(seconds=1))
    jobs.campaigns.tick()
    assert [line for line in logged() if line.startswith("Campaign")] == \
        [f"Campaign {campaign.id} “Spring sale” queued"]


@pytest.mark.parametrize("change, start, said", [
    (services.pause, "sending", "paused: Paused by staff."),
    (services.resume, "paused", "resumed"),
    (services.cancel, "sending", "cancelled"),
    (services.unschedule, "scheduled", "returned to draft"),
])
def test_each_state_change_is_exactly_one_line_with_the_campaigns_id_and_name(app, logged, change, start, said):
    campaign = factories.campaign(status=start, name="Spring sale", phones=["+15550000001"],
                                  scheduled_at=utcnow() + timedelta(days=1))
    change(campaign)
    assert not [line for line in logged() if line.startswith("Campaign")]  # nothing before the commit
    db.session.commit()
    assert [line for line in logged() if line.startswith("Campaign")] == \
        [f"Campaign {campaign.id} “Spring sale” {said}"]


def test_a_pause_for_metas_error_is_one_line_saying_why_in_plain_words(app, logged):
    campaign = factories.campaign(status="sending", name="Spring sale")
    pause_for(db.session, campaign.id, MetaError(132016, "Template disabled"))
    db.session.commit()
    assert [line for line in logged() if line.startswith("Campaign")] == [
        f"Campaign {campaign.id} “Spring sale” paused: Paused: Meta disabled the template order_update (en_US). "
        "Sync templates in Settings and check its status; resume once it is approved again. "
        "(Meta: error 132016: Template disabled.)"]


def test_a_campaign_that_ends_is_one_line_saying_how(app, logged):
    campaign = factories.campaign(status="sending", name="Spring sale")
    finish_if_done(campaign.id)
    assert [line for line in logged() if line.startswith("Campaign")] == \
        [f"Campaign {campaign.id} “Spring sale” completed (all sent)"]


def test_a_change_rolled_back_is_not_logged(app, logged):
    campaign = factories.campaign(status="sending", name="Spring sale")
    services.pause(campaign)
    db.session.rollback()
    assert not [line for line in logged() if line.startswith("Campaign")]

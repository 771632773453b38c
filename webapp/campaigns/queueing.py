"""A campaign's jobs put on the queues, by dotted name (jobs/ stands above webapp and is never imported here).

A marker is set when a job is enqueued, so that the tick does not enqueue the same job again while it waits.

Sending workers are shared fairly between the campaigns that want one: every campaign's first dispatcher is
queued, but a further one (DISPATCHERS_PER_CAMPAIGN) only while the sending workers are enough for every such
campaign to have as many (`fair_share`). Else one campaign's second dispatcher holds a worker for a whole slice
(30 s) while another campaign's first one waits in the queue for it: with five campaigns launched together on
five sending workers, the last two sent nothing for their first half-minute (bench/five_numbers.py).
"""
from __future__ import annotations

from flask import current_app

from webapp.campaigns.dispatch import DISPATCH_JOB, SLICES_PER_JOB, Lease, lease_key
from rq.job import Job

from webapp.queues import enqueue, live_workers, queue, redis_client

MARKER_SECONDS = 60
LAUNCH = "jobs.campaigns.launch"


def marker(kind: str, campaign_id: int, slot: int = 0) -> str:
    return f"{kind}:{campaign_id}:{slot}:queued"


def launch_lease_key(campaign_id: int) -> str:
    """The lease held while a campaign's snapshot runs, so the tick does not start a second one."""
    return f"launch:{campaign_id}:lease"


def enqueue_launch(campaign_id: int) -> None:
    if redis_client().set(marker("launch", campaign_id), "1", nx=True, ex=MARKER_SECONDS):
        enqueue(LAUNCH, campaign_id, queue_name="default", job_timeout=3600)


def enqueue_dispatchers(campaign_id: int) -> None:
    """Make sure every dispatcher slot of a sending campaign that its fair share of the workers allows runs or is
    queued (its first always)."""
    share = None
    for slot in range(current_app.config["DISPATCHERS_PER_CAMPAIGN"]):
        if Lease.alive(lease_key(campaign_id, slot)) or redis_client().exists(marker("dispatch", campaign_id, slot)):
            continue
        if slot:
            share = fair_share(campaign_id) if share is None else share
            if slot >= share:
                break
        if redis_client().set(marker("dispatch", campaign_id, slot), "1", nx=True, ex=MARKER_SECONDS):
            enqueue(DISPATCH_JOB, campaign_id, slot, queue_name="dispatch",
                    job_timeout=max(600, current_app.config["DISPATCH_SLICE_SECONDS"] * (SLICES_PER_JOB + 1) + 120))


def fair_share(campaign_id: int) -> int:
    """How many dispatchers each campaign that wants a sending worker now can have at once, `campaign_id` among
    them: the live workers serving the dispatch queue divided among those campaigns (at least one each)."""
    return max(1, live_workers()["dispatch"] // len(campaigns_wanting_workers() | {campaign_id}))


def campaigns_wanting_workers() -> set[int]:
    """The campaigns whose launch or dispatchers run or wait on a queue now (a launch leads to dispatchers), from
    RQ's queues and its registries of started jobs."""
    wanting = set()
    for name, function in (("default", LAUNCH), ("dispatch", DISPATCH_JOB)):
        jobs = queue(name)
        ids = jobs.get_job_ids() + jobs.started_job_registry.get_job_ids()
        wanting.update(job.args[0] for job in Job.fetch_many(ids, connection=redis_client())
                       if job is not None and job.func_name == function and job.args)
    return wanting

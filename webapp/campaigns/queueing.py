"""A campaign's jobs put on the queues, by dotted name (jobs/ stands above webapp and is never imported here).

A marker is set when a job is enqueued, so that the tick does not enqueue the same job again while it waits.
"""
from __future__ import annotations

from flask import current_app

from webapp.campaigns.dispatch import DISPATCH_JOB, SLICES_PER_JOB, Lease, lease_key
from webapp.queues import enqueue, redis_client

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
    """Make sure every dispatcher slot of a sending campaign runs or is queued."""
    for slot in range(current_app.config["DISPATCHERS_PER_CAMPAIGN"]):
        if Lease.alive(lease_key(campaign_id, slot)):
            continue
        if redis_client().set(marker("dispatch", campaign_id, slot), "1", nx=True, ex=MARKER_SECONDS):
            enqueue(DISPATCH_JOB, campaign_id, slot, queue_name="dispatch",
                    job_timeout=max(600, current_app.config["DISPATCH_SLICE_SECONDS"] * (SLICES_PER_JOB + 1) + 120))

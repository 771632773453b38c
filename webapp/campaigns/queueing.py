"""A campaign's jobs put on the queues, by dotted name (jobs/ stands above webapp and is never imported here).

A marker is set when a job is enqueued, so that the tick does not enqueue the same job again while it waits.
"""
from __future__ import annotations

from flask import current_app

from webapp.campaigns.dispatch import SLICES_PER_JOB, Lease, lease_key
from webapp.queues import enqueue, redis_client

MARKER_SECONDS = 60
LAUNCH = "jobs.campaigns.launch"
DISPATCH = "jobs.campaigns.dispatch"


def marker(kind: str, campaign_id: int, slot: int = 0) -> str:
    return f"{kind}:{campaign_id}:{slot}:queued"


def launch_lease(campaign_id: int) -> Lease:
    """Held while a snapshot runs, so the tick does not start a second one."""
    return Lease(f"launch:{campaign_id}:lease", ttl=3600)


def enqueue_launch(campaign_id: int) -> None:
    if redis_client().set(marker("launch", campaign_id), "1", nx=True, ex=MARKER_SECONDS):
        enqueue(LAUNCH, campaign_id, queue_name="default", job_timeout=3600)


def enqueue_dispatchers(campaign_id: int) -> None:
    """Make sure every dispatcher slot of a sending campaign runs or is queued."""
    for slot in range(current_app.config["DISPATCHERS_PER_CAMPAIGN"]):
        if Lease.alive(lease_key(campaign_id, slot)):
            continue
        if redis_client().set(marker("dispatch", campaign_id, slot), "1", nx=True, ex=MARKER_SECONDS):
            enqueue(DISPATCH, campaign_id, slot, queue_name="dispatch",
                    job_timeout=max(600, current_app.config["DISPATCH_SLICE_SECONDS"] * (SLICES_PER_JOB + 1) + 120))

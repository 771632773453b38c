"""RQ entry points for campaigns: launch snapshot, dispatch slices, and the periodic tick and sweep."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from webapp.campaigns import orphans
from webapp.campaigns.dispatch import DISPATCH_JOB, Dispatcher, Lease, Tracking, finish_if_done
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.outcomes import Retries
from webapp.campaigns.queueing import enqueue_dispatchers, enqueue_launch, launch_lease_key, marker
from webapp.campaigns.state_log import announce
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.timestamps import utcnow
from webapp.webhooks.parked import apply_parked_statuses, apply_stale_parked, webhooks_flowing
from webapp.workspace.models import WorkspaceSettings

# The sender learns from webhook tracking, which stands above it: handed in here, where both are known.
TRACKING = Tracking(webhooks_flowing=webhooks_flowing, wamids_committed=apply_parked_statuses)


def launch(campaign_id: int) -> str:
    redis_client().delete(marker("launch", campaign_id))
    lease = Lease(launch_lease_key(campaign_id), ttl=3600)
    lease.acquire()
    try:
        outcome = snapshot(campaign_id)
    finally:
        lease.release()
    if outcome == "sending":
        enqueue_dispatchers(campaign_id)
    return outcome


def dispatcher(campaign_id: int, slot: int = 0) -> Dispatcher:
    """The sender of one slot of a campaign, wired to webhook tracking."""
    return Dispatcher(campaign_id, slot, tracking=TRACKING)


def dispatch(campaign_id: int, slot: int = 0) -> str:
    redis_client().delete(marker("dispatch", campaign_id, slot))
    verdict = dispatcher(campaign_id, slot).run()
    if verdict == "continue":
        enqueue_dispatchers(campaign_id)
    return verdict


def work_horse_killed(job, pid, status, rusage) -> None:
    """The worker saw its work-horse die under a job (kill -9, out of memory). A dispatcher's lease goes at once
    rather than 10 s later, so its claimed rows are resolved now (campaigns/orphans.py) and the tick starts the
    slot again. No other dispatcher of that slot can hold it: the dead one did."""
    if job.func_name == DISPATCH_JOB and job.args:
        redis_client().delete(orphans.lease_key(*job.args))


def tick() -> dict:
    """Every couple of seconds: start what is due, and keep every sending campaign's dispatchers alive.

    The database decides: a restart of every process, or a flushed Redis, loses no campaign.
    """
    now = utcnow()
    due = db.session.execute(
        update(Campaign).where(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
        .values(status="queued", launched_at=now).returning(Campaign.id, Campaign.name)).all()
    for campaign_id, name in due:
        announce(db.session, campaign_id, name, "queued", "scheduled")
    db.session.commit()
    queued = db.session.scalars(select(Campaign.id).where(Campaign.status == "queued")).all()
    for campaign_id in queued:
        if not Lease.alive(launch_lease_key(campaign_id)):
            enqueue_launch(campaign_id)
    db.session.execute(update(Campaign).where(Campaign.status == "sending", Campaign.waiting_until <= now)
                       .values(waiting_until=None, notice=""))
    db.session.commit()
    sending = db.session.scalars(select(Campaign.id).where(Campaign.status == "sending",
                                                           Campaign.waiting_until.is_(None))).all()
    for campaign_id in sending:
        if finish_if_done(campaign_id) is None:
            enqueue_dispatchers(campaign_id)
    return {"due": len(due), "queued": len(queued), "sending": len(sending)}


def sweep() -> int:
    """Rows left `sending` by a dispatcher that is gone, whatever dispatcher runs now: those whose request never
    left go back to `pending`, the others are never re-sent blindly (campaigns/orphans.py). Then the campaign
    can finish by itself.

    A webhook that names such a row (its id travels in biz_opaque_callback_data) resolves it at any
    time, before or after this.
    """
    config = current_app.config
    campaigns = db.session.scalars(select(Recipient.campaign_id).where(Recipient.status == "sending").distinct()).all()
    db.session.commit()
    resolved = 0
    for campaign_id in campaigns:
        now = utcnow()
        retries = Retries(WorkspaceSettings.get().send_attempts, config["RETRY_BASE_SECONDS"],
                          config["UNKNOWN_DELIVERY_GRACE_SECONDS"], webhooks_flowing(db.session, now))
        db.session.commit()
        resolved += orphans.resolve(db.session, redis_client(), campaign_id, config["DISPATCHERS_PER_CAMPAIGN"], now,
                                    retries)
        db.session.commit()
        finish_if_done(campaign_id)
    apply_stale_parked(db.session)
    db.session.commit()
    return resolved

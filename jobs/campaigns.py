"""RQ entry points for campaigns: launch snapshot, dispatch slices, and the periodic tick and sweep."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.campaigns.dispatch import SLICES_PER_JOB, Dispatcher, Lease, finish_if_done, lease_key
from webapp.campaigns.launch import snapshot
from webapp.campaigns.lifecycle import add_counts, move
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.queues import enqueue, redis_client
from webapp.timestamps import utcnow
from webapp.transactions import begin_write

# A marker set when a job is enqueued, so the tick does not enqueue the same job again while it waits.
MARKER_SECONDS = 60


def _marker(kind: str, campaign_id: int, slot: int = 0) -> str:
    return f"{kind}:{campaign_id}:{slot}:queued"


def enqueue_launch(campaign_id: int) -> None:
    if redis_client().set(_marker("launch", campaign_id), "1", nx=True, ex=MARKER_SECONDS):
        enqueue(launch, campaign_id, queue_name="default", job_timeout=3600)


def enqueue_dispatchers(campaign_id: int) -> None:
    """Make sure every dispatcher slot of a sending campaign runs or is queued."""
    for slot in range(current_app.config["DISPATCHERS_PER_CAMPAIGN"]):
        if Lease.alive(lease_key(campaign_id, slot)):
            continue
        if redis_client().set(_marker("dispatch", campaign_id, slot), "1", nx=True, ex=MARKER_SECONDS):
            enqueue(dispatch, campaign_id, slot, queue_name="dispatch",
                    job_timeout=max(600, current_app.config["DISPATCH_SLICE_SECONDS"] * (SLICES_PER_JOB + 1) + 120))


def launch(campaign_id: int) -> str:
    redis_client().delete(_marker("launch", campaign_id))
    with LaunchLease(campaign_id):
        outcome = snapshot(campaign_id)
    if outcome == "sending":
        enqueue_dispatchers(campaign_id)
    return outcome


class LaunchLease:
    """Held while a snapshot runs, so the tick does not start a second one."""

    def __init__(self, campaign_id: int) -> None:
        self.lease = Lease(f"launch:{campaign_id}:lease", ttl=3600)

    def __enter__(self):
        self.lease.acquire()
        return self

    def __exit__(self, *exc):
        self.lease.release()


def dispatch(campaign_id: int, slot: int = 0) -> str:
    redis_client().delete(_marker("dispatch", campaign_id, slot))
    verdict = Dispatcher(campaign_id, slot).run()
    if verdict == "continue":
        enqueue_dispatchers(campaign_id)
    return verdict


def tick() -> dict:
    """Every couple of seconds: start what is due, and keep every sending campaign's dispatchers alive.

    The database decides: a restart of every process, or a flushed Redis, loses no campaign.
    """
    now = utcnow()
    due = db.session.scalars(
        update(Campaign).where(Campaign.status == "scheduled", Campaign.scheduled_at <= now)
        .values(status="queued", launched_at=now).returning(Campaign.id)).all()
    db.session.commit()
    queued = db.session.scalars(select(Campaign.id).where(Campaign.status == "queued")).all()
    for campaign_id in queued:
        if not Lease.alive(f"launch:{campaign_id}:lease"):
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
    """Rows left `sending` by a dispatcher that died: never re-sent blindly, but marked unknown.

    A webhook that names such a row (its id travels in biz_opaque_callback_data) resolves it at any
    time, before or after this; an operator decides about the rest.
    """
    stale_before = utcnow() - timedelta(seconds=current_app.config["SENDING_STALE_SECONDS"])
    stuck = db.session.execute(
        select(Recipient.id, Recipient.campaign_id)
        .where(Recipient.status == "sending", Recipient.sending_at < stale_before).limit(5000)).all()
    db.session.commit()
    by_campaign: dict[int, list[int]] = {}
    for row_id, campaign_id in stuck:
        by_campaign.setdefault(campaign_id, []).append(row_id)
    for campaign_id, ids in by_campaign.items():
        if any(Lease.alive(lease_key(campaign_id, s)) for s in range(current_app.config["DISPATCHERS_PER_CAMPAIGN"])):
            continue  # a live dispatcher may still record these; a later sweep looks again
        begin_write(db.session)
        rows = db.session.scalars(select(Recipient).where(Recipient.id.in_(ids), Recipient.status == "sending"))
        deltas = {}
        for row in rows:
            for name, value in move(row, "unknown").items():
                deltas[name] = deltas.get(name, 0) + value
        add_counts(db.session, campaign_id, deltas)
        db.session.commit()
        finish_if_done(campaign_id)
    _apply_stale_parked()
    return len(stuck)


def _apply_stale_parked() -> None:
    try:
        from webapp.webhooks.services import apply_stale_parked
    except ImportError:
        return
    apply_stale_parked(db.session)
    db.session.commit()

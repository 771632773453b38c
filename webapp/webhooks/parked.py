"""Statuses that arrived before their row knew its wamid, kept until it does.

When a status finds no row — the webhook raced the sender's commit of the wamid, as a quick 131049
failure does — it is parked in `unmatched_statuses` as Meta sent it, and applied as soon as the wamid is
committed (`apply_parked_statuses`, which the dispatch job hands to the sender), or by the periodic sweep
(`apply_stale_parked`) should that call have been missed.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Recipient
from webapp.campaigns.statuses import CHUNK, StatusUpdate, apply_statuses
from webapp.inbox.answers import apply_answer_statuses
from webapp.inbox.models import Answer
from webapp.timestamps import utcnow
from webapp.transactions import begin_write, is_sqlite, retried
from webapp.webhooks.models import UnmatchedStatus, WebhookEvent
from webapp.webhooks.payloads import read_status

PARKED_KEPT = timedelta(days=7)  # then they are statuses of messages we never sent (the raw event stays)
FLOWING_WITHIN = timedelta(minutes=10)


def route_statuses(session: Session, updates: list[StatusUpdate]) -> list[StatusUpdate]:
    """Apply statuses to campaign rows, then to inbox answers; return those of neither (to park)."""
    return apply_answer_statuses(session, apply_statuses(session, updates))


def park(session: Session, updates: list[StatusUpdate]) -> None:
    if updates:
        session.add_all(UnmatchedStatus(wamid=u.wamid[:128], payload=u.raw) for u in updates)


def apply_parked_statuses(session: Session, wamids: list[str]) -> int:
    """Apply the statuses that arrived before these wamids were committed; call right after committing them.

    Returns how many were applied. Runs its own write transaction and commits it; when nothing waits for
    these wamids (the usual case) it only reads, and leaves the session's transaction to the caller.
    """
    wamids = [w for w in wamids if w]
    if not wamids or not _any_parked(session, wamids):
        return 0
    return retried(session, lambda: _apply_parked_for(session, sorted(set(wamids))))


def _apply_parked_for(session: Session, wamids: list[str]) -> int:
    begin_write(session)
    parked = []
    for chunk in _chunks(wamids):
        query = select(UnmatchedStatus).where(UnmatchedStatus.wamid.in_(chunk))
        parked.extend(session.scalars(_locked(session, query.order_by(UnmatchedStatus.id))))
    applied = _apply_parked(session, parked)
    session.commit()
    return applied


def apply_stale_parked(session: Session, limit: int = 5000) -> int:
    """The periodic sweep: apply parked statuses whose row now carries their wamid, and forget those older
    than a week (statuses of messages we never sent). Commits; returns how many were applied."""
    begin_write(session)
    matched = (select(UnmatchedStatus)
               .where(or_(exists().where(Recipient.wamid == UnmatchedStatus.wamid),
                          exists().where(Answer.wamid == UnmatchedStatus.wamid)))
               .order_by(UnmatchedStatus.id).limit(limit))
    applied = _apply_parked(session, list(session.scalars(_locked(session, matched, of=UnmatchedStatus))))
    session.execute(delete(UnmatchedStatus).where(UnmatchedStatus.created_at < utcnow() - PARKED_KEPT))
    session.commit()
    return applied


def _apply_parked(session: Session, parked: list[UnmatchedStatus]) -> int:
    """Apply parked statuses through the same code as live ones; those that found their row are removed."""
    updates = {item.id: read_status(item.payload) for item in parked}
    waiting = {id(u) for u in route_statuses(session, [u for u in updates.values() if u])}
    done = [item_id for item_id, u in updates.items() if u is None or id(u) not in waiting]
    for chunk in _chunks(done):
        session.execute(delete(UnmatchedStatus).where(UnmatchedStatus.id.in_(chunk)))
    return sum(1 for item_id in done if updates[item_id] is not None)


def _any_parked(session: Session, wamids: list[str]) -> bool:
    return any(session.scalar(select(UnmatchedStatus.id).where(UnmatchedStatus.wamid.in_(chunk)).limit(1))
               for chunk in _chunks(wamids))


def _locked(session: Session, query, of=None):
    return query if is_sqlite(session) else query.with_for_update(of=of)


def _chunks(values, size: int = CHUNK):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def webhooks_flowing(session: Session, now: datetime) -> bool:
    """Whether Meta's webhooks reach us lately. Only then does silence after a lost answer mean the
    message was not accepted: a send that timed out is retried after the grace period only if its
    `sent` status had every chance to arrive; otherwise the row becomes unknown, for the operator."""
    latest = session.scalar(select(WebhookEvent.received_at).where(WebhookEvent.status == "applied")
                            .order_by(WebhookEvent.id.desc()).limit(1))
    return latest is not None and now - latest < FLOWING_WITHIN

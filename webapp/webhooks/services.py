"""Webhook events from receipt to effect: stored raw first, then applied in a transaction of their own.

Live POSTs reach here through webapp/webhooks/ingest.py, which groups concurrent ones into one store
commit and one apply transaction.

A failure while applying is written on the stored event (never lost, never a 500 to Meta) and
`flask webhooks replay` applies it again through the same code. Statuses go to their campaign rows
(campaigns/statuses.py); those whose row is not known yet wait in webhooks/parked.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.guardrail import pause_senders
from webapp.campaigns.models import Campaign
from webapp.campaigns.outcomes import pause_for
from webapp.campaigns.statuses import load_rows
from webapp.queues import enqueue, on_commit
from webapp.senders.models import Sender
from webapp.senders.quality import apply_number_updates
from webapp.senders.template_updates import apply_template_updates
from webapp.timestamps import utcnow
from webapp.transactions import begin_write, retried
from webapp.webhooks.inbound import answered_ids, apply_messages, apply_preferences
from webapp.webhooks.models import WebhookEvent
from webapp.webhooks.parked import apply_parked_statuses, park, route_statuses
from webapp.webhooks.payloads import read_changes, read_number_updates, read_template_updates


@dataclass
class Outcome:
    """What applying one event did, for the event's record and for the replay command."""

    status: str = "ignored"
    statuses: int = 0
    parked: int = 0
    messages: int = 0
    notes: list[str] = field(default_factory=list)


_events = WebhookEvent.__table__
# Built once: the ingest path runs these for every batch of POSTs (webapp/webhooks/ingest.py).
STORE = insert(_events).returning(_events.c.id, sort_by_parameter_order=True)
FINISH = (update(_events).where(_events.c.id.in_(bindparam("ids", expanding=True)))
          .values(status=bindparam("new_status"), error=bindparam("new_error"), attempts=_events.c.attempts + 1,
                  applied_at=bindparam("new_applied_at", type_=_events.c.applied_at.type)))
OUR_NUMBERS = select(Sender.__table__.c.phone_number_id)
SYNC_JOB = "jobs.senders.sync"  # reads a number's templates, quality and limit again (jobs/senders.py)


def record_events(session: Session, bodies: list[bytes]) -> list[int]:
    """Store verified POSTs exactly as they came, in one commit, before anything is applied."""
    now = utcnow()
    rows = [{"body": body.decode("utf-8", errors="replace"), "status": "received", "received_at": now,
             "error": "", "attempts": 0} for body in bodies]
    ids = list(session.scalars(STORE, rows))
    session.commit()
    return ids


def apply_events(session: Session, events: list[tuple[int, dict | None]]) -> dict[int, Outcome]:
    """Apply stored events together in one transaction (rows loaded and counters changed once for all).
    Should that fail, each is applied alone, so one bad event holds back no other and its error is kept
    on it as `failed`. A payload of None is read back from the stored body."""
    try:
        outcomes, parked = retried(session, lambda: _apply_and_finish(session, events))
        # The sender may have committed these wamids (and looked for parked statuses) while we parked
        # them: look once more now that ours are committed, so one of the two sides always sees the other.
        apply_parked_statuses(session, parked)
        return outcomes
    except Exception as exc:  # noqa: BLE001 - any failure must end on the stored event, to be replayed
        session.rollback()
        if len(events) > 1:
            return {event_id: apply_events(session, [(event_id, payload)])[event_id] for event_id, payload in events}
        [(event_id, _)] = events
        current_app.logger.exception("Applying webhook event %s failed", event_id)
        _finish(session, [event_id], "failed", f"{type(exc).__name__}: {exc}"[:4000])
        session.commit()
        return {event_id: Outcome(status="failed", notes=[str(exc)])}


def _apply_and_finish(session: Session, events: list[tuple[int, dict | None]]) -> tuple[dict[int, Outcome], list[str]]:
    begin_write(session)
    outcomes, parked = _apply(session, _payloads(session, events))
    for (status, notes), ids in _grouped(outcomes).items():
        _finish(session, ids, status, notes)
    session.commit()
    return outcomes, parked


def apply_event(session: Session, event_id: int) -> Outcome:
    """Apply one stored event again, in its own transaction."""
    return apply_events(session, [(event_id, None)])[event_id]


def replay(session: Session, event_ids: list[int]) -> dict[int, Outcome | None]:
    """Apply stored events again, one by one (duplicates are harmless, so any event may be replayed);
    None for an id that no stored event has."""
    stored = set(session.scalars(select(WebhookEvent.id).where(WebhookEvent.id.in_(event_ids))))
    return {event_id: apply_event(session, event_id) if event_id in stored else None for event_id in event_ids}


def failed_event_ids(session: Session) -> list[int]:
    return list(session.scalars(select(WebhookEvent.id).where(WebhookEvent.status == "failed")
                                .order_by(WebhookEvent.id)))


def unfinished_event_ids(session: Session, received_before: datetime) -> list[int]:
    """Events still `received` since before a time: their process stopped while applying them."""
    return list(session.scalars(select(WebhookEvent.id).where(WebhookEvent.status == "received",
                                                               WebhookEvent.received_at < received_before)
                                .order_by(WebhookEvent.id)))


def _payloads(session: Session, events: list[tuple[int, dict | None]]) -> list[tuple[int, dict]]:
    missing = [event_id for event_id, payload in events if payload is None]
    bodies = dict(session.execute(select(WebhookEvent.id, WebhookEvent.body).where(WebhookEvent.id.in_(missing)))
                  .all()) if missing else {}
    return [(event_id, payload if payload is not None else json.loads(bodies[event_id])) for event_id, payload in events]


def _apply(session: Session, payloads: list[tuple[int, dict]]) -> tuple[dict[int, Outcome], list[str]]:
    """Apply the events' changes; return each event's outcome and the wamids of the statuses parked."""
    outcomes = {event_id: Outcome() for event_id, _ in payloads}
    statuses, messages, preferences = [], [], []
    owners: dict[int, int] = {}  # id() of a status -> its event, to count what each event did
    changes = [(event_id, change) for event_id, payload in payloads for change in read_changes(payload)]
    ours = set(session.scalars(OUR_NUMBERS)) if changes else set()
    for event_id, change in changes:
        if change.phone_number_id not in ours:
            continue  # another app's number on the same WhatsApp account: recorded, not ours to apply
        outcome = outcomes[event_id]
        outcome.status = "applied"
        statuses += change.statuses
        owners.update((id(status), event_id) for status in change.statuses)
        messages += [(event_id, message) for message in change.messages]
        preferences += change.preferences
        outcome.notes += [f"Meta reported error {e.code}: {e.title} {e.detail}".strip() for e in change.errors]
    if messages:  # a reply changes its row too: lock it with the statuses' rows in one ascending sweep
        load_rows(session, answered_ids(session, [message for _, message in messages])
                  | {status.row_id for status in statuses if status.row_id}, {status.wamid for status in statuses})
    unmatched = route_statuses(session, statuses)
    park(session, unmatched)
    for status in statuses:
        outcomes[owners[id(status)]].statuses += 1
    for status in unmatched:
        outcomes[owners[id(status)]].statuses -= 1
        outcomes[owners[id(status)]].parked += 1
    for event_id, new in apply_messages(session, messages).items():
        outcomes[event_id].messages = new
    apply_preferences(session, preferences)
    _apply_number_updates(session, payloads, outcomes)
    _apply_template_updates(session, payloads, outcomes)
    for event_id, outcome in outcomes.items():
        if outcome.notes:
            current_app.logger.warning("Webhook event %s: %s", event_id, "; ".join(outcome.notes))
    return outcomes, [status.wamid for status in unmatched]


def _apply_number_updates(session: Session, payloads: list[tuple[int, dict]], outcomes: dict[int, Outcome]) -> None:
    """Quality and account changes of our numbers (senders/quality.py); a downgrade pauses their campaigns."""
    updates = []
    for event_id, payload in payloads:
        if found := read_number_updates(payload):
            updates += found
            outcomes[event_id].status = "applied"
    if updates:
        for campaign_id in pause_senders(session, apply_number_updates(session, updates)):
            current_app.logger.warning("Campaign %s paused: its number's quality fell", campaign_id)


def _apply_template_updates(session: Session, payloads: list[tuple[int, dict]],
                            outcomes: dict[int, Outcome]) -> None:
    """Meta's reviews of our templates (senders/template_updates.py): a paused or disabled one pauses the campaigns
    sending it; an approved one is read again from the Graph API, after this transaction."""
    updates = []
    for event_id, payload in payloads:
        if found := read_template_updates(payload):
            updates += found
            outcomes[event_id].status = "applied"
    if not updates:
        return
    applied = apply_template_updates(session, updates)
    for template_id, failure in sorted(applied.stopped.items()):
        sending = session.scalars(select(Campaign.id).where(Campaign.template_id == template_id,
                                                            Campaign.status == "sending").order_by(Campaign.id)).all()
        for campaign_id in sending:
            pause_for(session, campaign_id, failure, reviewed=True)
            current_app.logger.warning("Campaign %s paused: its template is %s", campaign_id, failure.title)
    for sender_id in applied.to_sync.values():
        on_commit(session, lambda sender_id=sender_id: enqueue(SYNC_JOB, sender_id, queue_name="default"))


def _grouped(outcomes: dict[int, Outcome]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for event_id, outcome in outcomes.items():
        groups.setdefault((outcome.status, "; ".join(outcome.notes)), []).append(event_id)
    return groups


def _finish(session: Session, event_ids: list[int], status: str, error: str) -> None:
    session.execute(FINISH, {"ids": event_ids, "new_status": status, "new_error": error,
                             "new_applied_at": utcnow() if status != "failed" else None})

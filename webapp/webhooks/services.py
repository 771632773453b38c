"""Webhook events from receipt to effect: stored raw first, then applied in a transaction of their own.

A failure while applying is written on the stored event (never lost, never a 500 to Meta) and
`flask webhooks replay` applies it again through the same code. The sender calls
`apply_parked_statuses` right after committing wamids; a periodic job calls `apply_stale_parked`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.senders.models import Sender
from webapp.timestamps import utcnow
from webapp.transactions import begin_write
from webapp.webhooks.inbound import apply_messages, apply_preferences
from webapp.webhooks.models import WebhookEvent
from webapp.webhooks.payloads import read_changes
from webapp.webhooks.statuses import apply_parked_statuses, apply_stale_parked, apply_statuses, park

__all__ = ["record_event", "apply_event", "replay", "apply_parked_statuses", "apply_stale_parked", "Outcome"]

@dataclass
class Outcome:
    """What applying one event did, for the event's record and for the replay command."""

    status: str = "ignored"
    statuses: int = 0
    parked: int = 0
    messages: int = 0
    notes: list[str] = field(default_factory=list)


def record_event(session: Session, body: bytes) -> int:
    """Store a verified POST exactly as it came, and commit, before anything is applied."""
    event = WebhookEvent(body=body.decode("utf-8", errors="replace"), status="received")
    session.add(event)
    session.commit()
    return event.id


def apply_event(session: Session, event_id: int, payload: dict | None = None) -> Outcome:
    """Apply a stored event in its own transaction; an exception is recorded on the event as `failed`."""
    try:
        begin_write(session)
        if payload is None:
            payload = json.loads(session.scalar(select(WebhookEvent.body).where(WebhookEvent.id == event_id)))
        outcome = _apply(session, payload, event_id)
        _finish(session, event_id, outcome.status, "; ".join(outcome.notes))
        session.commit()
        return outcome
    except Exception as exc:  # noqa: BLE001 - any failure must end on the stored event, to be replayed
        session.rollback()
        current_app.logger.exception("Applying webhook event %s failed", event_id)
        _finish(session, event_id, "failed", f"{type(exc).__name__}: {exc}"[:4000])
        session.commit()
        return Outcome(status="failed", notes=[str(exc)])


def replay(session: Session, event_ids: list[int]) -> dict[int, Outcome]:
    """Apply stored events again (duplicates are harmless, so any event may be replayed)."""
    return {event_id: apply_event(session, event_id) for event_id in event_ids}


def failed_event_ids(session: Session) -> list[int]:
    return list(session.scalars(select(WebhookEvent.id).where(WebhookEvent.status == "failed")
                                .order_by(WebhookEvent.id)))


def unfinished_event_ids(session: Session, received_before: datetime) -> list[int]:
    """Events still `received` since before a time: their process stopped while applying them."""
    return list(session.scalars(select(WebhookEvent.id).where(WebhookEvent.status == "received",
                                                               WebhookEvent.received_at < received_before)
                                .order_by(WebhookEvent.id)))


def _apply(session: Session, payload: dict, event_id: int) -> Outcome:
    outcome = Outcome()
    statuses, messages, preferences = [], [], []
    changes = read_changes(payload)
    ours = set(session.scalars(select(Sender.phone_number_id))) if changes else set()
    for change in changes:
        if change.phone_number_id not in ours:
            continue  # another app's number on the same WhatsApp account: recorded, not ours to apply
        outcome.status = "applied"
        statuses += change.statuses
        messages += change.messages
        preferences += change.preferences
        outcome.notes += [f"Meta reported error {e.code}: {e.title} {e.detail}".strip() for e in change.errors]
    unmatched = apply_statuses(session, statuses)
    park(session, unmatched)
    outcome.statuses, outcome.parked = len(statuses) - len(unmatched), len(unmatched)
    outcome.messages = apply_messages(session, messages, event_id)
    apply_preferences(session, preferences)
    if outcome.notes:
        current_app.logger.warning("Webhook event %s: %s", event_id, "; ".join(outcome.notes))
    return outcome


def _finish(session: Session, event_id: int, status: str, error: str) -> None:
    session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(
        status=status, error=error, attempts=WebhookEvent.attempts + 1,
        applied_at=utcnow() if status != "failed" else None))



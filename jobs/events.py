"""RQ entry points for outbound events: deliver one (claim, POST, record; safe to run twice: a delivery not due or
not pending is left alone), and re-enqueue deliveries whose job was lost."""
from __future__ import annotations

from flask import current_app

from webapp.events import deliveries
from webapp.events.outbox import enqueue_deliveries
from webapp.extensions import db
from webapp.timestamps import utcnow


def deliver(delivery_id: int) -> str:
    claimed = deliveries.claim(db.session, delivery_id, utcnow())
    db.session.commit()
    if claimed is None:
        return "not due"
    answer = deliveries.post(claimed, current_app.config["EVENTS_TIMEOUT_SECONDS"],
                             current_app.config["EVENTS_ALLOW_PRIVATE"], utcnow())
    status = deliveries.record(db.session, claimed, answer, utcnow())
    db.session.commit()
    return status


def sweep() -> int:
    """Deliveries due a lease ago and still pending (their job was lost): enqueued again."""
    ids = deliveries.due_again(db.session, utcnow())
    db.session.commit()
    if ids:
        enqueue_deliveries(ids)
    return len(ids)

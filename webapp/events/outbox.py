"""Emitting an event: one delivery row per enabled endpoint subscribed to its type, written in the caller's
transaction (the fact and its event commit together, or neither does), and a delivery job enqueued once it commits.

Status webhooks are the hot path: when no endpoint subscribes to a type, `wanted` answers from a per-process cache
of the subscribed types (a dict lookup); the cache is refreshed every few seconds, and at once in the process that
changes an endpoint. A new endpoint hears from every process within CACHE_SECONDS.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from webapp.events.models import EventDelivery, EventEndpoint
from webapp.queues import on_commit, queue
from webapp.timestamps import iso, utcnow

DELIVER_JOB = "jobs.events.deliver"
JOB_TIMEOUT = 60  # seconds: a delivery's request is bounded far below this (EVENTS_TIMEOUT_SECONDS)
CACHE_SECONDS = 2.0
_subscribed: dict[object, tuple[float, frozenset[str]]] = {}  # engine -> (good until, types some endpoint wants)


def wanted(session: Session, event_type: str) -> bool:
    """Does some enabled endpoint subscribe to this type? Cheap: read from the database every CACHE_SECONDS."""
    key = session.get_bind()  # tests use two databases in one process
    until, types = _subscribed.get(key, (0.0, frozenset()))
    if time.monotonic() >= until:
        types = frozenset(t for row in session.scalars(select(EventEndpoint.event_types)
                                                       .where(EventEndpoint.enabled.is_(True)))
                          for t in row)
        _subscribed[key] = (time.monotonic() + CACHE_SECONDS, types)
    return event_type in types


def forget_subscriptions() -> None:
    """An endpoint was added, changed or removed: the next `wanted` reads the database."""
    _subscribed.clear()


def emit(session: Session, event_type: str, data: dict) -> None:
    emit_many(session, event_type, [data])


def emit_many(session: Session, event_type: str, items: Iterable[dict]) -> int:
    """One event per item (its own event id), delivered to every enabled endpoint subscribed to the type;
    how many deliveries were written."""
    items = list(items)
    if not items or not wanted(session, event_type):
        return 0
    endpoint_ids = [endpoint_id for endpoint_id, types in session.execute(
        select(EventEndpoint.id, EventEndpoint.event_types).where(EventEndpoint.enabled.is_(True))
        .order_by(EventEndpoint.id)) if event_type in types]
    return queue_deliveries(session, [(endpoint_id, body) for body in (event_body(event_type, data) for data in items)
                                      for endpoint_id in endpoint_ids])


def event_body(event_type: str, data: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or str(uuid.uuid4()), "type": event_type, "created_at": iso(utcnow()), "data": data}


def queue_deliveries(session: Session, deliveries: list[tuple[int, dict]], replay_of_id: int | None = None) -> int:
    """Write (endpoint id, body) deliveries, due now, and enqueue their jobs once the caller commits."""
    if not deliveries:
        return 0
    now = utcnow()
    ids = session.scalars(insert(EventDelivery).returning(EventDelivery.id), [
        {"endpoint_id": endpoint_id, "event_id": body["id"], "type": body["type"], "payload": body,
         "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "", "replay_of_id": replay_of_id,
         "created_at": now, "updated_at": now} for endpoint_id, body in deliveries]).all()
    on_commit(session, lambda: enqueue_deliveries(ids))
    return len(ids)


def enqueue_deliveries(ids: list[int], delay_seconds: float = 0) -> None:
    jobs = queue()
    if delay_seconds > 0:
        for delivery_id in ids:
            jobs.enqueue_in(timedelta(seconds=delay_seconds), DELIVER_JOB, delivery_id, job_timeout=JOB_TIMEOUT)
        return
    jobs.enqueue_many([jobs.prepare_data(DELIVER_JOB, (delivery_id,), timeout=JOB_TIMEOUT) for delivery_id in ids])


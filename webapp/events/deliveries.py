"""Delivering an event: claim the row (a commit), POST it signed with no transaction open, record the answer (a
commit). A failure is tried again after a growing delay (BACKOFF) until the event is a day old; an endpoint that has
failed for a day without one success is disabled, with the reason shown in Settings → Events.

The request goes to the address vetted by addresses.py, bounded by EVENTS_TIMEOUT_SECONDS to connect and again to
answer, and never follows a redirect (its Location is noted in the log): no worker is held by a slow receiver, and
no redirect leads an event to a private address.
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from webapp.events import signing
from webapp.events.addresses import public_address
from webapp.events.errors import EventsError
from webapp.events.models import TEST_EVENT, EventDelivery, EventEndpoint
from webapp.events.outbox import enqueue_deliveries, event_body, queue_deliveries
from webapp.queues import on_commit

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
           timedelta(hours=1), timedelta(hours=2), timedelta(hours=4), timedelta(hours=8))  # then every 8 h
GIVE_UP_AFTER = timedelta(hours=24)  # an event older than this is not tried again; an endpoint failing as long is off
LEASE = timedelta(minutes=2)  # a claimed attempt whose worker died is due again after this (jobs.events.sweep)
ERROR_CHARS = 300


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event_type: str
    payload: dict
    attempt: int


@dataclass(frozen=True)
class Answer:
    code: int | None  # the HTTP status, when the receiver answered
    error: str  # "" when delivered

    @property
    def delivered(self) -> bool:
        return not self.error


def claim(session: Session, delivery_id: int, now: datetime) -> Claimed | None:
    """Take a due, pending delivery for one attempt (the caller commits before sending); None when it is not due,
    no longer pending, or another worker took it."""
    row = session.execute(select(EventDelivery, EventEndpoint).join(EventEndpoint)
                          .where(EventDelivery.id == delivery_id)).first()
    if row is None:
        return None
    delivery, endpoint = row
    if delivery.status != "pending" or (delivery.next_attempt_at and delivery.next_attempt_at > now):
        return None
    if not endpoint.enabled:
        _fail(delivery, f"Not sent: the endpoint is disabled ({endpoint.disabled_reason})", now)
        return None
    taken = session.execute(update(EventDelivery).where(
        EventDelivery.id == delivery_id, EventDelivery.status == "pending", EventDelivery.attempts == delivery.attempts)
        .values(attempts=EventDelivery.attempts + 1, next_attempt_at=now + LEASE, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not taken:
        return None
    return Claimed(delivery.id, endpoint.id, endpoint.url, endpoint.secret, delivery.type, delivery.payload,
                   delivery.attempts + 1)


def post(claimed: Claimed, timeout: float, allow_private: bool, now: datetime) -> Answer:
    """POST the event once, signed; never raises for what the receiver or the network does."""
    parts = urlsplit(claimed.url)
    https = parts.scheme == "https"
    host, port = parts.hostname or "", parts.port or (443 if https else 80)
    try:
        address = public_address(host, port, allow_private)
    except EventsError as error:
        return Answer(None, error.message)
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1], "Content-Type": "application/json", "User-Agent": "Broadcaster-Events/1",
        signing.HEADER: signing.sign(claimed.secret, body, int(now.timestamp())),
        "X-Broadcaster-Event": claimed.event_type, "X-Broadcaster-Delivery": str(claimed.delivery_id),
    }
    bounds = urllib3.Timeout(connect=timeout, read=timeout)
    pool = (urllib3.HTTPSConnectionPool(address, port, timeout=bounds, retries=False, server_hostname=host,
                                        assert_hostname=host) if https
            else urllib3.HTTPConnectionPool(address, port, timeout=bounds, retries=False))
    path = parts.path or "/"
    try:
        with pool:
            response = pool.urlopen("POST", path + (f"?{parts.query}" if parts.query else ""), body=body,
                                    headers=headers, redirect=False, retries=False, preload_content=False)
            try:
                return _answer(response, timeout)
            finally:
                response.release_conn()
    except urllib3.exceptions.NewConnectionError as error:  # refused, unreachable (urllib3 files it under timeouts)
        return Answer(None, f"Could not connect: {_reason(error)}"[:ERROR_CHARS])
    except (urllib3.exceptions.TimeoutError, socket.timeout):
        return Answer(None, f"No answer within {timeout:g} s")
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Answer(None, f"Could not connect: {_reason(error)}"[:ERROR_CHARS])


def _answer(response, timeout: float) -> Answer:
    code = response.status
    if 200 <= code < 300:
        return Answer(code, "")
    if 300 <= code < 400:
        location = response.headers.get("Location", "")
        return Answer(code, f"Redirected to {location or 'nowhere'}: redirects are not followed"[:ERROR_CHARS])
    try:
        text = response.read(ERROR_CHARS).decode("utf-8", "replace").strip()
    except (urllib3.exceptions.HTTPError, OSError):
        text = ""
    return Answer(code, (f"HTTP {code}" + (f": {text}" if text else ""))[:ERROR_CHARS])


def _reason(error: Exception) -> str:
    text = str(getattr(error, "reason", None) or error)
    return text.split(">: ", 1)[-1] or type(error).__name__  # without the "<…Connection object at 0x…>: " urllib3 puts first


def record(session: Session, claimed: Claimed, answer: Answer, now: datetime) -> str:
    """The attempt's outcome on the delivery and its endpoint; a retry scheduled, or the endpoint disabled after a
    day of failures. Returns the delivery's status."""
    delivery = session.get(EventDelivery, claimed.delivery_id)
    endpoint = session.get(EventEndpoint, claimed.endpoint_id)
    if delivery is None or endpoint is None:  # deleted meanwhile
        return "gone"
    delivery.response_code, delivery.last_error = answer.code, answer.error
    if answer.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        endpoint.failing_since = None
        return delivery.status
    endpoint.failing_since = endpoint.failing_since or now
    if endpoint.enabled and now - endpoint.failing_since >= GIVE_UP_AFTER:
        endpoint.enabled = False
        endpoint.disabled_reason = (f"Every delivery since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC failed, the "
                                    f"last with “{answer.error}”.")
        _fail_pending(session, endpoint.id, delivery.id, now)
    retry_at = now + BACKOFF[min(claimed.attempt, len(BACKOFF)) - 1]
    if not endpoint.enabled or retry_at - delivery.created_at > GIVE_UP_AFTER:
        delivery.status, delivery.next_attempt_at = "failed", None
        return delivery.status
    delivery.next_attempt_at = retry_at
    on_commit(session, lambda: enqueue_deliveries([claimed.delivery_id], (retry_at - now).total_seconds()))
    return delivery.status


def _fail(delivery: EventDelivery, reason: str, now: datetime) -> None:
    delivery.status, delivery.last_error, delivery.next_attempt_at, delivery.updated_at = "failed", reason, None, now


def _fail_pending(session: Session, endpoint_id: int, but_id: int, now: datetime) -> None:
    """The endpoint's other deliveries still waiting: not sent any more (each can be replayed once it is enabled)."""
    session.execute(update(EventDelivery).where(EventDelivery.endpoint_id == endpoint_id, EventDelivery.id != but_id,
                                                EventDelivery.status == "pending")
                    .values(status="failed", next_attempt_at=None, updated_at=now,
                            last_error="Not sent: the endpoint was disabled after a day of failures")
                    .execution_options(synchronize_session=False))


def replay(session: Session, delivery: EventDelivery) -> int:
    """Send a delivery's event again (same event id, a new delivery in the log); its endpoint must be enabled."""
    endpoint = session.get(EventEndpoint, delivery.endpoint_id)
    if not endpoint.enabled:
        raise EventsError("The endpoint is disabled: enable it before replaying its events.")
    queue_deliveries(session, [(endpoint.id, delivery.payload)], replay_of_id=delivery.id)
    return endpoint.id


def send_test(session: Session, endpoint: EventEndpoint) -> None:
    if not endpoint.enabled:
        raise EventsError("The endpoint is disabled: enable it before sending a test event.")
    queue_deliveries(session, [(endpoint.id, event_body(TEST_EVENT, {"endpoint_id": endpoint.id,
                                                                     "message": "A test event from Broadcaster"}))])


def due_again(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose job was lost (Redis flushed, a worker killed mid-attempt): due a lease ago."""
    return list(session.scalars(select(EventDelivery.id).where(
        EventDelivery.status == "pending", or_(EventDelivery.next_attempt_at.is_(None),
                                               and_(EventDelivery.next_attempt_at <= now - LEASE)))
        .order_by(EventDelivery.next_attempt_at).limit(limit)))


def log(session: Session, endpoint_id: int | None = None, status: str = "", event_type: str = "",
        limit: int = 100) -> list[EventDelivery]:
    """The delivery log, newest first, filtered by endpoint, status and type."""
    query = select(EventDelivery).order_by(EventDelivery.id.desc()).limit(limit)
    if endpoint_id:
        query = query.where(EventDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(EventDelivery.status == status)
    if event_type:
        query = query.where(EventDelivery.type == event_type)
    return list(session.scalars(query))

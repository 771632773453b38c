"""Registering the endpoints events go to: an HTTPS URL on a public address, the types it wants, a secret shown
once (at creation and at each rotation). Every change refreshes the emitters' cache of subscribed types."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.events.addresses import vet_url
from webapp.events.errors import EventsError
from webapp.events.models import EVENT_TYPES, EventEndpoint
from webapp.events.outbox import forget_subscriptions
from webapp.queues import on_commit

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _checked(url: str, event_types: list[str], allow_private: bool) -> tuple[str, list[str]]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise EventsError(f"Unknown event types: {', '.join(unknown)}.", "event_types")
    if not event_types:
        raise EventsError("Choose at least one event type.", "event_types")
    return vet_url(url, allow_private), [t for t in EVENT_TYPES if t in event_types]


def register(session: Session, url: str, event_types: list[str], description: str, *, allow_private: bool,
             user_id: int | None) -> EventEndpoint:
    """A new enabled endpoint; its secret (endpoint.secret) is for the caller to show once."""
    url, event_types = _checked(url, event_types, allow_private)
    endpoint = EventEndpoint(url=url, event_types=event_types, description=description.strip(), secret=new_secret(),
                             enabled=True, disabled_reason="", created_by_id=user_id)
    session.add(endpoint)
    session.flush()
    _changed(session)
    return endpoint


def edit(session: Session, endpoint: EventEndpoint, url: str, event_types: list[str], description: str, *,
         allow_private: bool) -> None:
    endpoint.url, endpoint.event_types = _checked(url, event_types, allow_private)
    endpoint.description = description.strip()
    _changed(session)


def rotate_secret(session: Session, endpoint: EventEndpoint) -> str:
    """A new secret, in force from the next delivery on; the old one stops working at once."""
    endpoint.secret = new_secret()
    return endpoint.secret


def enable(session: Session, endpoint: EventEndpoint) -> None:
    """Back on after a disable: its failures are forgotten (deliveries failed meanwhile can be replayed)."""
    endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, "", None
    _changed(session)


def delete(session: Session, endpoint: EventEndpoint) -> None:
    session.delete(endpoint)  # its deliveries go with it (ON DELETE CASCADE)
    _changed(session)


def all_endpoints(session: Session) -> list[EventEndpoint]:
    return list(session.scalars(select(EventEndpoint).order_by(EventEndpoint.id)))


def disabled_endpoints(session: Session) -> list[EventEndpoint]:
    """For the banners of Settings → Events and of the dashboard."""
    return list(session.scalars(select(EventEndpoint).where(EventEndpoint.enabled.is_(False))
                                .order_by(EventEndpoint.id)))


def _changed(session: Session) -> None:
    forget_subscriptions()
    on_commit(session, forget_subscriptions)  # and once more when the change is visible to the next reader

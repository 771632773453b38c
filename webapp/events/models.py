"""Event endpoints (where admins want events POSTed) and deliveries (one event to one endpoint: the outbox row
written with the fact it reports, then POSTed by a job until it is delivered or has failed for a day)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.encryption import EncryptedText
from webapp.extensions import db
from webapp.timestamps import UTCDateTime, utcnow

EVENT_TYPES = {
    "message.status": "A message was sent, delivered, read or failed",
    "message.replied": "A customer replied to a campaign message",
    "link.clicked": "A customer clicked a tracked link",
    "contact.opted_out": "A contact opted out",
    "contact.opted_in": "A contact who had opted out opted back in",
    "broadcast.completed": "A campaign finished sending",
}
TEST_EVENT = "endpoint.test"  # what "Send a test event" sends; no fact emits it
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class EventEndpoint(db.Model):
    __tablename__ = "event_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(EncryptedText)  # shown once, at creation and at each rotation
    event_types: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first failure since the last success
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EventDelivery(db.Model):
    __tablename__ = "event_deliveries"
    __table_args__ = (CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
                      Index("ix_event_deliveries_endpoint_id_id", "endpoint_id", "id"),
                      Index("ix_event_deliveries_status_next_attempt_at", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))  # a uuid; a replay re-sends the same event id
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)  # the whole body: {"id", "type", "created_at", "data"}
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    replay_of_id: Mapped[int | None] = mapped_column()  # the delivery this one re-sends, if it is a replay
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

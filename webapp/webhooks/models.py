"""What Meta tells us: raw webhook events as received, inbound messages, and early statuses."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.campaigns.models import BigId
from webapp.extensions import db
from webapp.timestamps import UTCDateTime, utcnow

EVENT_STATES = ("received", "applied", "failed", "ignored")


class WebhookEvent(db.Model):
    """A signed POST from Meta, stored before it is applied so that nothing is ever lost."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint("status IN ('received', 'applied', 'failed', 'ignored')", name="status"),
        Index("ix_webhook_events_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="received")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMessage(db.Model):
    """A message a customer sent us, linked to the campaign row it answers when there is one."""

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_campaign_id_id", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wamid: Mapped[str] = mapped_column(String(128), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    profile_name: Mapped[str] = mapped_column(String(200), default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    button_payload: Mapped[str] = mapped_column(Text, default="")
    context_wamid: Mapped[str] = mapped_column(String(128), default="")
    is_opt_out: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # Meta's timestamp
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_events.id", ondelete="SET NULL"))


class UnmatchedStatus(db.Model):
    """A status whose wamid no row carries yet (the webhook raced the send's commit); applied later."""

    __tablename__ = "unmatched_statuses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wamid: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Sender phone numbers and the message templates approved for their WhatsApp Business Account."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.encryption import EncryptedText
from webapp.extensions import db
from webapp.public_ids import public_id_column
from webapp.timestamps import UTCDateTime, utcnow

# Meta's messaging-limit tiers: unique customers per rolling 24 hours (None = unlimited).
MESSAGING_TIERS = (250, 2_000, 10_000, 100_000, None)
# Meta's quality rating of a number (the Graph API's `quality_rating`); UNKNOWN until read or reported.
QUALITY_RATINGS = ("GREEN", "YELLOW", "RED", "UNKNOWN")


class Sender(db.Model):
    __tablename__ = "senders"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = public_id_column()
    label: Mapped[str] = mapped_column(String(120))
    phone_number_id: Mapped[str] = mapped_column(String(64), unique=True)
    waba_id: Mapped[str] = mapped_column(String(64))
    display_phone_number: Mapped[str] = mapped_column(String(32), default="")
    access_token: Mapped[str] = mapped_column(EncryptedText)  # write-only in the UI
    throughput: Mapped[int] = mapped_column(default=80)  # messages per second
    messaging_limit: Mapped[int | None] = mapped_column()  # None = unlimited
    is_sandbox: Mapped[bool] = mapped_column(default=False)
    # What Meta says of the number's health (senders/quality.py): read on sync, kept current by the
    # phone_number_quality_update and account_update webhooks; quality_changed_at is Meta's time of the last change.
    quality_rating: Mapped[str] = mapped_column(String(8), default="UNKNOWN")
    messaging_limit_tier: Mapped[str] = mapped_column(String(16), default="")  # Meta's label: TIER_2K, TIER_UNLIMITED…
    quality_event: Mapped[str] = mapped_column(String(32), default="")  # the last event: FLAGGED, DOWNGRADE…
    quality_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Template(db.Model):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("waba_id", "name", "language", name="waba_name_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = public_id_column()
    waba_id: Mapped[str] = mapped_column(String(64), index=True)
    meta_id: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32), default="")
    parameter_format: Mapped[str] = mapped_column(String(16), default="POSITIONAL")
    components: Mapped[list] = mapped_column(JSON, default=list)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"

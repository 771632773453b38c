"""Campaigns, their recipient rows (one per phone, the unit of sending and tracking) and counters."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.money import Money
from webapp.public_ids import public_id_column
from webapp.senders.models import Sender, Template
from webapp.timestamps import UTCDateTime, utcnow

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint for a million-row campaign.
BigId = BigInteger().with_variant(Integer, "sqlite")

CAMPAIGN_STATES = ("draft", "scheduled", "queued", "sending", "paused", "sent", "partially_sent", "failed", "cancelled")
# What staff read for each state.
CAMPAIGN_LABELS = {
    "draft": "Draft", "scheduled": "Scheduled", "queued": "Ongoing", "sending": "Ongoing", "paused": "Paused",
    "sent": "Completed", "partially_sent": "Completed", "failed": "Failed", "cancelled": "Cancelled",
}
ACTIVE_STATES = ("queued", "sending", "paused")
EDITABLE_STATES = ("draft", "scheduled")
FINISHED_STATES = ("sent", "partially_sent", "failed", "cancelled")

RECIPIENT_STATES = (
    "pending", "sending", "accepted", "sent", "delivered", "read", "replied", "failed", "skipped", "cancelled",
    "unknown",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("status", CAMPAIGN_STATES), name="status"),
        # A sending window has both ends, apart (campaigns/windows.py); no window: neither.
        CheckConstraint("(window_opens IS NULL AND window_closes IS NULL) OR (window_opens BETWEEN 0 AND 1439 "
                        "AND window_closes BETWEEN 0 AND 1439 AND window_opens <> window_closes)",
                        name="sending_window"),
        Index("ix_campaigns_status_scheduled_at", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = public_id_column()
    name: Mapped[str] = mapped_column(String(200))
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="RESTRICT"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    # The template as it was at launch, so a later sync never changes what a campaign sent.
    template_name: Mapped[str] = mapped_column(String(512), default="")
    template_language: Mapped[str] = mapped_column(String(16), default="")
    template_components: Mapped[list] = mapped_column(JSON, default=list)
    parameter_format: Mapped[str] = mapped_column(String(16), default="POSITIONAL")
    # {"lists": [ids]} or {"retarget": {"campaign_id": id, "outcome": "failed"}}
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    # {"body.1": {"source": "attribute", "value": "city", "fallback": "friend"}, "header": {...}, ...}
    variables: Mapped[dict] = mapped_column(JSON, default=dict)
    header_media_url: Mapped[str] = mapped_column(Text, default="")
    # {"1": "STOP_PROMOS"}: the payload sent with each quick-reply button, by its index; a button without
    # one is sent with its text as the payload.
    button_payloads: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # The sending window, in minutes after midnight of each recipient's local time (campaigns/windows.py): rows
    # are sent only between these hours where their recipient is; closes < opens spans midnight. None: any time.
    window_opens: Mapped[int | None] = mapped_column(SmallInteger)
    window_closes: Mapped[int | None] = mapped_column(SmallInteger)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a campaign is paused or waiting, as the banner on its page says it.
    notice: Mapped[str] = mapped_column(Text, default="")
    notice_code: Mapped[int | None] = mapped_column()
    waiting_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # daily messaging limit reached
    origin: Mapped[str] = mapped_column(String(8), default="web")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How far the launch snapshot got (the last contact or source row written), so a re-run resumes.
    snapshot_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Meta first accepted one of its messages since it (re)started sending: until then its requests go
    # out one at a time (campaigns/dispatch.py), so a dead token or a broken template costs one request.
    canary_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the rate card said the campaign would cost, fixed when its rows were written (campaigns/costs.py):
    # {"cost": "12.345600", "currency": "USD", "category": "marketing", "unpriced": {"XK": 12}}.
    cost_estimate: Mapped[dict | None] = mapped_column(JSON)
    # The first-slice guardrail (campaigns/guardrail.py): the rows up to slice_last_id go first; the rest wait until
    # the slice is judged. guard_state: "" (no guardrail), "slice" (being judged), "passed", "tripped" (it paused
    # the campaign), "cleared" (staff resumed it: no more checks).
    slice_last_id: Mapped[int | None] = mapped_column(BigInteger)
    slice_size: Mapped[int | None] = mapped_column()
    guard_state: Mapped[str] = mapped_column(String(8), default="")

    sender: Mapped[Sender] = relationship(lazy="joined")
    template: Mapped[Template | None] = relationship()

    @property
    def label(self) -> str:
        return CAMPAIGN_LABELS[self.status]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES


class Recipient(db.Model):
    """One phone number of one campaign; it only ever moves forward (see webapp/campaigns/lifecycle.py)."""

    __tablename__ = "recipients"
    __table_args__ = (
        CheckConstraint(_in("status", RECIPIENT_STATES), name="status"),
        Index("ix_recipients_campaign_status_id", "campaign_id", "status", "id"),
        Index("ix_recipients_campaign_id_id", "campaign_id", "id"),
        Index("ix_recipients_phone_id", "phone", "id"),
        # A contact's history, the frequency cap's count of its recent messages (campaigns/frequency.py) and filters
        # on it: "received a campaign in the last 7 days" (webapp/audience).
        Index("ix_recipients_contact_id_accepted_at", "contact_id", "accepted_at"),
        Index("ix_recipients_wa_id_id", "wa_id", "id", postgresql_where=text("wa_id IS NOT NULL"),
              sqlite_where=text("wa_id IS NOT NULL")),
        # At most one row, hence at most one message, per number and campaign.
        UniqueConstraint("campaign_id", "phone", name="campaign_phone"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20))
    # The WhatsApp id Meta answered the send with, when it is not the phone's digits: replies come from it.
    wa_id: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    # The recipient's IANA time zone, fixed at launch when the campaign has a sending window (campaigns/windows.py).
    zone: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)  # the normalised parameters (webapp/cloudapi.py)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # The furthest stage reached (1 accepted by the API, then as Meta reports: 2 sent, 3 delivered, 4 read,
    # 5 replied), kept even when the row
    # later fails, so counters come out the same whatever order the webhooks arrive in.
    reached: Mapped[int] = mapped_column(SmallInteger, default=0)
    skip_reason: Mapped[str] = mapped_column(Text, default="")
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wamid: Mapped[str | None] = mapped_column(String(128), unique=True)
    error_code: Mapped[int | None] = mapped_column()
    error_title: Mapped[str] = mapped_column(Text, default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the Cloud API took it (our clock)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_text: Mapped[str] = mapped_column(Text, default="")
    reply_button: Mapped[str] = mapped_column(Text, default="")
    pricing_billable: Mapped[bool | None] = mapped_column()
    pricing_category: Mapped[str] = mapped_column(String(32), default="")
    pricing_model: Mapped[str] = mapped_column(String(8), default="")
    # What Meta bills for this message by the rate card, set when its first billable status arrives.
    cost: Mapped[Decimal | None] = mapped_column(Money)
    # Clicks on the campaign's tracked links (campaigns/links.py): the first one's time and how many; NULL before
    # any, so a launch writes nothing for them.
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicks: Mapped[int | None] = mapped_column(Integer)


class CampaignCounter(db.Model):
    """Counters kept up to date with every row transition, so a page never counts a million rows.

    Each counter is split over a few shards, so concurrent webhook writers rarely wait on one row.
    """

    __tablename__ = "campaign_counters"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class TrackedLink(db.Model):
    """A link of a campaign whose clicks are counted: one per tracked variable (a body URL or a URL button's
    suffix), made at launch. Its codes are derived, not stored (webapp/campaigns/links.py): nothing per
    recipient is written until someone clicks. The link outlives its campaign (campaign_id set to NULL), so a
    constant URL still redirects after the campaign is deleted."""

    __tablename__ = "tracked_links"
    __table_args__ = (UniqueConstraint("campaign_id", "slot", name="campaign_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    slot: Mapped[str] = mapped_column(String(80))  # the variable, as campaigns/variables.py names it: "body:2"
    # Where its value sits in a recipient's parameter snapshot: ["body", 1], ["body", "link"], ["buttons", 0, "text"].
    path: Mapped[list] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(Text, default="")  # the same for everyone (a constant); "" when per recipient
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkClick(db.Model):
    """Who clicked a tracked link: one row per (recipient, link), written at the first click."""

    __tablename__ = "link_clicks"
    __table_args__ = (Index("ix_link_clicks_link_id", "link_id"),)

    recipient_id: Mapped[int] = mapped_column(BigId, ForeignKey("recipients.id", ondelete="CASCADE"),
                                              primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("tracked_links.id", ondelete="CASCADE"), primary_key=True)
    first_clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    clicks: Mapped[int] = mapped_column(Integer, default=1)


# --- The timeline's figures (issue #20): kept as rows move, by campaigns/timeline_counts.py ---------------------

class TimelineCount(db.Model):
    """How many of a campaign's rows reached a stage (sent, delivered, read) in one second, and in one minute: what
    a GROUP BY over the rows' stamps would say, so the campaign page's chart never reads a million rows.

    `at` is the bucket's start in seconds since 1970 (UTC); `width` 1 or 60 seconds; each bucket is split over a few
    shards, as the counters are.
    """

    __tablename__ = "timeline_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    width: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(String(12), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


# The log's filters at a million rows (tracking/log.py): Meta's error code (with the status, for the error filter's
# counts), replied and clicked are partial indexes (a few rows each). Search anywhere in the phone or the name reads
# the campaign's rows: trigram indexes would make it fast at a million rows but double what a launch costs to write
# (docs/benchmarks.md, issue #20), and a launch is every campaign's path.
Index("ix_recipients_campaign_error_code_id", Recipient.campaign_id, Recipient.error_code, Recipient.id,
      postgresql_include=["status"], postgresql_where=Recipient.error_code.is_not(None),
      sqlite_where=Recipient.error_code.is_not(None))
Index("ix_recipients_campaign_replied_id", Recipient.campaign_id, Recipient.id,
      postgresql_where=Recipient.replied_at.is_not(None), sqlite_where=Recipient.replied_at.is_not(None))
Index("ix_recipients_campaign_clicked_id", Recipient.campaign_id, Recipient.id,
      postgresql_where=Recipient.clicked_at.is_not(None), sqlite_where=Recipient.clicked_at.is_not(None))

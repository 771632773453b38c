"""A campaign's figures — counters, progress, rates and funnel — from its maintained counters alone,
so they cost the same for ten rows as for a million."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign
from webapp.timestamps import utcnow

# The counters shown on the page, in the order a campaign moves through them; the last two only when non-zero.
# Accepted is what the Cloud API took; Sent, Delivered and Read are what Meta's statuses say since, so a message
# Meta gave up on after accepting it counts as accepted and failed, never as sent.
SHOWN = ("total", "queued", "accepted", "sent", "delivered", "read", "replied", "failed", "skipped")
SHOWN_WHEN_ANY = ("unknown", "cancelled")
FUNNEL = ("total", "accepted", "sent", "delivered", "read", "replied")
RATE_BASE = "accepted"  # rates are percentages of the messages the API accepted
LABELS = {"total": "Recipients", "queued": "Queued", "accepted": "Accepted", "sent": "Sent", "delivered": "Delivered",
          "read": "Read", "replied": "Replied", "failed": "Failed", "skipped": "Skipped", "unknown": "Unknown",
          "cancelled": "Cancelled"}


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    value: int
    percent: float | None = None  # of the figure it is measured against


@dataclass(frozen=True)
class Figures:
    counters: list[Figure]
    processed: int  # rows no longer queued: sent, failed, skipped, cancelled or unknown
    total: int
    rates: list[Figure]
    funnel: list[Figure]


# Statuses and replies go on arriving after the last send (a read receipt, an answer): for this long
# after completion the counters keep polling, slowly; after it, a reload shows what came later.
SETTLING = timedelta(hours=2)


def is_live(campaign: Campaign) -> bool:
    """Whether the campaign is sending (or about to), so its fragments poll often."""
    return campaign.is_active or campaign.status == "scheduled"


def counters_poll_seconds(campaign: Campaign) -> int | None:
    """How often the counters poll: every 2 s while sending, every 10 s while the webhooks of a
    finished campaign still settle, then never (the fragment carries no trigger)."""
    if is_live(campaign):
        return 2
    if campaign.completed_at and campaign.status != "cancelled" and utcnow() - campaign.completed_at < SETTLING:
        return 10
    return None


def figures(session: Session, campaign_id: int) -> Figures:
    values = counts(session, campaign_id)
    total, accepted = values["total"], values[RATE_BASE]
    shown = SHOWN + tuple(name for name in SHOWN_WHEN_ANY if values[name])
    return Figures(
        counters=[Figure(name, LABELS[name], values[name]) for name in shown],
        processed=total - values["queued"],
        total=total,
        rates=[Figure("delivered", "Delivered", values["delivered"], percent(values["delivered"], accepted)),
               Figure("read", "Read", values["read"], percent(values["read"], accepted)),
               Figure("replied", "Response rate", values["replied"], percent(values["replied"], accepted))],
        funnel=[Figure(name, LABELS[name], values[name], percent(values[name], total)) for name in FUNNEL],
    )


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None

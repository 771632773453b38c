"""A campaign's figures — counters, progress, rates and funnel — from its maintained counters alone, so they
cost the same for ten rows as for a million; and the state its page polls for: what the page last showed, what
changed since, and how soon to ask again."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import CAMPAIGN_LABELS, EDITABLE_STATES, FINISHED_STATES, Campaign

# The counters shown on the page, in the order a campaign moves through them; the last two only when non-zero.
# Accepted is what the Cloud API took; Sent, Delivered and Read are what Meta's statuses say since, so a message
# Meta gave up on after accepting it counts as accepted and failed, never as sent.
SHOWN = ("total", "queued", "accepted", "sent", "delivered", "read", "replied", "failed", "skipped")
SHOWN_WHEN_ANY = ("unknown", "cancelled", "clicked")
FUNNEL = ("total", "accepted", "sent", "delivered", "read", "replied")
RATE_BASE = "accepted"  # rates are percentages of the messages the API accepted
LABELS = {"total": "Recipients", "queued": "Queued", "accepted": "Accepted", "sent": "Sent", "delivered": "Delivered",
          "read": "Read", "replied": "Replied", "failed": "Failed", "skipped": "Skipped", "unknown": "Unknown",
          "cancelled": "Cancelled", "clicked": "Clicked"}


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    value: int
    percent: float | None = None  # of the figure it is measured against
    of: str = RATE_BASE            # that figure's name


@dataclass(frozen=True)
class Figures:
    counters: list[Figure]
    processed: int  # rows no longer queued: sent, failed, skipped, cancelled or unknown
    total: int
    rates: list[Figure]
    funnel: list[Figure]
    unknown: int  # rows whose fate nobody knows: the page asks the operator what to do with them


def figures(session: Session, campaign_id: int) -> Figures:
    return figures_of(counts(session, campaign_id))


def figures_of(values: dict[str, int]) -> Figures:
    total, accepted = values["total"], values[RATE_BASE]
    shown = SHOWN + tuple(name for name in SHOWN_WHEN_ANY if values[name])
    return Figures(
        counters=[Figure(name, LABELS[name], values[name]) for name in shown],
        processed=total - values["queued"],
        total=total,
        rates=[Figure("delivered", "Delivered", values["delivered"], percent(values["delivered"], accepted)),
               Figure("read", "Read", values["read"], percent(values["read"], accepted)),
               Figure("replied", "Response rate", values["replied"], percent(values["replied"], accepted)),
               *([Figure("clicked", "Click rate", values["clicked"], percent(values["clicked"], values["delivered"]),
                         "delivered")] if values["clicked"] else [])],
        funnel=[Figure(name, LABELS[name], values[name], percent(values[name], total)) for name in FUNNEL],
        unknown=values["unknown"],
    )


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def is_live(campaign: Campaign) -> bool:
    """Whether the campaign is sending (or about to): the recipient log's own page polls it."""
    return campaign.is_active or campaign.status == "scheduled"


# --- How often the campaign page asks for its state ----------------------------------------------------------

QUICK = 2  # seconds: while the campaign sends, and for a minute after anything changed (statuses pour in then)
# Then, quiet for less than this → every so many seconds; quiet for longer → SLOWEST.
BACKOFF = ((timedelta(minutes=1), QUICK), (timedelta(minutes=5), 5), (timedelta(minutes=15), 15))
SLOWEST = 60
# A finished campaign quiet for this long is settled: its page stops asking (a reload shows what came later).
SETTLING = timedelta(hours=2)
# A scheduled campaign asks every QUICK seconds from a minute before its time, every 5 s in the quarter of an
# hour before, and every minute until then, so its page turns into the live page by itself when it starts.
DUE_SOON, DUE_NEAR = timedelta(minutes=1), timedelta(minutes=15)


def poll_seconds(campaign: Campaign, changed_at: datetime, now: datetime) -> int | None:
    """How many seconds until the page asks again (None: it never does), given when it last saw a change."""
    status = campaign.status
    if status == "draft":  # it changes only by someone's hand, and their page follows their click
        return None
    if status == "scheduled":
        due_in = (campaign.scheduled_at or now) - now
        return QUICK if due_in <= DUE_SOON else 5 if due_in <= DUE_NEAR else SLOWEST
    waiting = campaign.waiting_until is not None and campaign.waiting_until > now  # the daily limit: hours
    if status in ("queued", "sending") and not waiting:
        return QUICK
    quiet = now - changed_at
    for shorter_than, seconds in BACKOFF:
        if quiet < shorter_than:
            return seconds
    if status in FINISHED_STATES and quiet >= SETTLING:
        return None
    return SLOWEST  # paused or waiting: someone, or tomorrow, may set it going again


def fingerprint(campaign: Campaign, values: dict[str, int], also: tuple = ()) -> str:
    """A short digest of everything on the campaign page that changes by itself (status, dates, notices,
    counters, and `also`: what the page says of the workers): the page sends back the one it shows, so a poll
    knows whether anything changed since, for the price of hashing a few dozen values it has read anyway."""
    state = (campaign.status, campaign.scheduled_at, campaign.started_at, campaign.completed_at, campaign.notice,
             campaign.notice_code, campaign.waiting_until, sorted(values.items()), also)
    return hashlib.blake2b(repr(state).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Seen:
    """What the page shows: the state's fingerprint, the campaign's status, and when the page last saw a change.
    The page carries it in its poll's URL; the server keeps nothing per page."""

    fingerprint: str
    status: str
    changed_at: datetime


@dataclass(frozen=True)
class LiveState:
    """One read of a campaign for its page: every part of the page (heading, actions, dates, banners, counters,
    timeline, log) is drawn from this, so none can contradict another."""

    figures: Figures
    seen: Seen  # what the page shows once it has this state (its next poll sends it back)
    changed: bool  # since the page's last look: the timeline and the log refresh
    status_changed: bool  # parts shaped by the status (heading, actions) follow
    label_changed: bool  # what staff read changed (queued → sending is Ongoing either way): it is announced
    new_shape: bool  # the page's main region changes shape (a draft's forms and preview ↔ the live figures)
    poll: int | None  # seconds until the page asks again; None once settled

    @property
    def shape(self) -> str:
        return shape(self.seen.status)


def shape(status: str) -> str:
    """The two shapes of the campaign page: composing (forms and preview) and live (figures, timeline, log)."""
    return "compose" if status in EDITABLE_STATES else "live"


def live_state(session: Session, campaign: Campaign, shown: Seen | None, now: datetime,
               also: tuple = ()) -> LiveState:
    """The campaign's state for a page that shows `shown` (None: a page being drawn afresh); `also` is what
    else the page shows that changes by itself (fingerprint)."""
    values = counts(session, campaign.id)
    current = fingerprint(campaign, values, also)
    if shown is None:
        # A fresh page only knows when the campaign itself last changed (paused, completed …).
        known = [moment for moment in (campaign.updated_at, campaign.completed_at) if moment]
        changed_at, changed, status_changed, label_changed, new_shape = max(known, default=now), *[False] * 4
    else:
        changed = shown.fingerprint != current
        changed_at = now if changed else min(shown.changed_at, now)
        status_changed = shown.status != campaign.status
        label_changed = CAMPAIGN_LABELS.get(shown.status) != campaign.label
        new_shape = status_changed and (shape(shown.status) == "compose" or campaign.is_editable)
    return LiveState(figures_of(values), Seen(current, campaign.status, changed_at), changed, status_changed,
                     label_changed, new_shape, poll_seconds(campaign, changed_at, now))

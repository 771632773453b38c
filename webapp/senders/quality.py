"""A sender number's health as Meta rates it: the quality rating and the messaging-limit tier, read from the Graph
API on sync and kept current by the `phone_number_quality_update` and `account_update` webhooks.

The tier sets the number's daily cap (Sender.messaging_limit, which the dispatcher's DailyCap reads each slice).
A webhook applies only when it is newer than what the number shows (Meta's `entry.time`; in the same second, only a
different event), so a duplicate or a late one changes nothing — and pauses nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.senders.models import QUALITY_RATINGS, Sender
from webapp.senders.services import client_for
from webapp.timestamps import utcnow

# Meta's tier labels (`current_limit`, `max_daily_conversations_per_business`,
# `whatsapp_business_manager_messaging_limit`) -> unique customers per 24 hours (None: unlimited).
TIERS: dict[str, int | None] = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1_000, "TIER_2K": 2_000,
                                "TIER_10K": 10_000, "TIER_100K": 100_000, "TIER_UNLIMITED": None}
# What a phone_number_quality_update event says of the rating: FLAGGED when it fell to low (red), UNFLAGGED
# when it recovered (the next sync reads the exact rating). UPGRADE/DOWNGRADE move the tier.
RATING_AFTER = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}
# Events that warn of a number in trouble: campaigns sending from it pause (campaigns/guardrail.py).
DOWNGRADES = frozenset({"FLAGGED", "DOWNGRADE"})
# account_update events that restrict the whole account's business-initiated messaging.
RESTRICTIONS = frozenset({"ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE"})
NUMBER_FIELDS = ("quality_rating", "whatsapp_business_manager_messaging_limit")


@dataclass(frozen=True)
class NumberUpdate:
    """One quality or account change for our numbers, read from a webhook (webhooks/payloads.py)."""

    field: str  # phone_number_quality_update | account_update
    waba_id: str
    display_number: str  # digits; "" when the change is for the whole account
    event: str
    tier: str  # Meta's tier label, "" when the change does not say
    at: datetime
    detail: str = ""  # an account restriction's type, for the banner


def tier_limit(label: str, current: int | None) -> int | None:
    """The daily cap of a tier label; an unknown or unset label keeps the current one."""
    return TIERS[label] if label in TIERS else current


def sync_number(sender: Sender) -> dict:
    """Read the number's quality rating and messaging limit from the Graph API; return what it said."""
    found = client_for(sender).get_phone_number(sender.phone_number_id, NUMBER_FIELDS)
    rating = str(found.get("quality_rating") or "UNKNOWN").upper()
    rating = rating if rating in QUALITY_RATINGS else "UNKNOWN"
    tier = str(found.get("whatsapp_business_manager_messaging_limit") or "")
    if (rating, tier) != (sender.quality_rating, sender.messaging_limit_tier):
        sender.quality_changed_at = utcnow()
    sender.quality_rating = rating
    if tier in TIERS:
        sender.messaging_limit_tier, sender.messaging_limit = tier, TIERS[tier]
    return {"quality_rating": rating, "tier": tier}


def apply_number_updates(session: Session, updates: list[NumberUpdate]) -> dict[int, str]:
    """Apply quality and account changes to our numbers, oldest first, each only if newer than what the number
    shows; return {sender id: why its campaigns must pause} for the downgrades and restrictions applied."""
    troubled: dict[int, str] = {}
    for change in sorted(updates, key=lambda u: u.at):
        for sender in _senders_of(session, change):
            if _known(sender, change):
                continue  # a duplicate, or older than what we know
            sender.quality_changed_at, sender.quality_event = change.at, change.event[:32]
            sender.quality_rating = RATING_AFTER.get(change.event, sender.quality_rating)
            if change.tier in TIERS:
                sender.messaging_limit_tier, sender.messaging_limit = change.tier, TIERS[change.tier]
            if change.event in DOWNGRADES or change.event in RESTRICTIONS:
                troubled[sender.id] = _why(sender, change)
            else:
                troubled.pop(sender.id, None)
    return troubled


def _known(sender: Sender, change: NumberUpdate) -> bool:
    """Whether the number already shows this change or a later one. Meta's times are whole seconds: another event
    in the same second (a restriction right after a downgrade) is news, the same event again is a duplicate."""
    known = sender.quality_changed_at
    return known is not None and (change.at < known or (change.at == known and change.event == sender.quality_event))


def _senders_of(session: Session, change: NumberUpdate) -> list[Sender]:
    """The numbers a change concerns: by display number (Meta's quality webhook names no phone number id), else
    every number of the account."""
    numbers = session.scalars(select(Sender).where(Sender.waba_id == change.waba_id).order_by(Sender.id))
    return [sender for sender in numbers
            if not change.display_number or _digits(sender.display_phone_number) == change.display_number]


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _why(sender: Sender, change: NumberUpdate) -> str:
    if change.event == "FLAGGED":
        return (f"Meta flagged the number {sender.label}: its quality rating fell to low, as customers blocked or "
                "reported its messages.")
    if change.event == "DOWNGRADE":
        limit = tier_limit(change.tier, sender.messaging_limit)
        room = f"{limit:,} customers a day" if limit else "a lower limit"
        return f"Meta lowered the messaging limit of {sender.label} to {room} because of its quality rating."
    restriction = f" ({change.detail})" if change.detail else ""
    return f"Meta reported {change.event}{restriction} for the WhatsApp account of {sender.label}."

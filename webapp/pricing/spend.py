"""The month's spend: what Meta billed the workspace, added to as billable statuses arrive, read in one small query
(a few shard rows a month, whatever the volume), for the monthly budget."""
from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.money import from_micros, to_micros
from webapp.pricing.models import MonthlySpend
from webapp.pricing.rate_card import PricingError, ensure_card
from webapp.timestamps import utcnow
from webapp.transactions import adding
from webapp.workspace.models import WorkspaceSettings

SHARDS = 4


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def add(session: Session, month: str, micros: int) -> None:
    """Add to a month's spend (on a random shard) in the caller's transaction."""
    if not micros:
        return
    session.execute(adding(session, MonthlySpend.__table__, ("month", "shard"), ("micros",)),
                    [{"month": month, "shard": random.randrange(SHARDS), "micros": micros}])


def spent(session: Session, month: str) -> int:
    """The month's spend so far, in millionths of the card's currency."""
    return int(session.scalar(select(func.sum(MonthlySpend.micros)).where(MonthlySpend.month == month)) or 0)


def set_budget(session: Session, text: str) -> Decimal | None:
    """Set the workspace's monthly budget (blank: none); refuse one below what Meta already billed this month."""
    value = _budget(text)
    billed = spent(session, month_of(utcnow()))
    if value is not None and to_micros(value) < billed:
        currency = ensure_card(session).currency
        raise PricingError(f"{currency} {from_micros(billed):,.2f} has already been billed this month: a budget of "
                           f"{currency} {value:,.2f} would be spent already. Enter at least that much, or leave it "
                           "blank for no budget.", "monthly_budget")
    WorkspaceSettings.get().monthly_budget = value
    return value


def _budget(text: str) -> Decimal | None:
    cleaned = text.strip().lstrip("$").replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise PricingError(f"“{text}” is not an amount: write a number such as 250 or 250.00.", "monthly_budget") \
            from None
    if not value.is_finite() or value <= 0 or value >= 1_000_000_000:
        raise PricingError("A budget is more than 0 (leave it blank for no budget).", "monthly_budget")
    if value != value.quantize(Decimal("0.01")):
        raise PricingError(f"“{text}”: a budget is in whole cents, e.g. 250.00.", "monthly_budget")
    return value

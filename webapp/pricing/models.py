"""The workspace's rate card (seeded from rate_card.csv, editable by admins) and the month's spend counter."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.money import Money
from webapp.timestamps import UTCDateTime, utcnow

CATEGORIES = ("marketing", "utility", "authentication", "service")
# Prices per message to the millionth of a currency unit (Meta's cards have four decimals).
Price = Money


class RateCard(db.Model):
    """The card as a whole (one row): where its prices come from and since when they apply."""

    __tablename__ = "rate_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(Text, default="")
    effective_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RatePrice(db.Model):
    """One market's prices per message, by category (None: the card has no price for it)."""

    __tablename__ = "rate_prices"

    market: Mapped[str] = mapped_column(String(64), primary_key=True)  # Meta's name, or a country's ISO code
    marketing: Mapped[Decimal | None] = mapped_column(Price)
    utility: Mapped[Decimal | None] = mapped_column(Price)
    authentication: Mapped[Decimal | None] = mapped_column(Price)
    service: Mapped[Decimal | None] = mapped_column(Price)


class MonthlySpend(db.Model):
    """What Meta billed this workspace per month, in millionths of the card's currency, kept as billable statuses
    arrive (split over shards like the campaign counters, so concurrent webhooks rarely wait on one row)."""

    __tablename__ = "monthly_spend"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-12", UTC
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    micros: Mapped[int] = mapped_column(BigInteger, default=0)

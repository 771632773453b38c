"""The dashboard's daily figures, kept as rows move: what a scan of every recipient row would say, by day.

A row counts on the workspace day (and the recipient's local hour) of its send: when it was claimed to be sent
(`sending_at`). So a day's read rate is that of the messages sent that day, and "best hours" says when to send.
The figures move in the transaction that moves the row (lifecycle's counter changes, given row by row to a
`Tally`), on a random shard of their day so that concurrent webhook writers seldom meet on one row.

    campaign_days   day × campaign: sent, delivered, read, replied, clicked, failed, opted_out, cost
    send_hours      day × the recipient's local hour: sent, read, replied (best hours to send)
    failure_days    day × Meta's error code: failed, with the error's title

`flask dashboard rebuild` (and the migration) compute them from the rows with `rebuild`, set-based.
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger, Date, ForeignKey, Index, Integer, Numeric, Select, SmallInteger, Text, cast, delete, func, select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from webapp.campaigns.lifecycle import FUNNEL
from webapp.campaigns.models import Recipient
from webapp.extensions import db
from webapp.transactions import adding, is_sqlite
from webapp.workspace.zone import workspace_zone

SHARDS = 4
DAY_FIGURES = ("sent", "delivered", "read", "replied", "clicked", "failed", "opted_out")
HOUR_FIGURES = ("sent", "read", "replied")
# lifecycle's counter names -> the dashboard's (`accepted`: the Cloud API took the message, i.e. it was sent)
FROM_COUNTERS = {"accepted": "sent", "delivered": "delivered", "read": "read", "replied": "replied", "failed": "failed"}
NO_CODE = 0  # a failure without Meta's code (a lost request the staff marked failed)


def _figure() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class CampaignDay(db.Model):
    __tablename__ = "campaign_days"
    __table_args__ = (Index("ix_campaign_days_campaign_id", "campaign_id"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    sent: Mapped[int] = _figure()
    delivered: Mapped[int] = _figure()
    read: Mapped[int] = _figure()
    replied: Mapped[int] = _figure()
    clicked: Mapped[int] = _figure()
    failed: Mapped[int] = _figure()
    opted_out: Mapped[int] = _figure()
    cost: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=0, server_default="0")


class SendHour(db.Model):
    __tablename__ = "send_hours"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)  # recipient's local, 0–23
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    sent: Mapped[int] = _figure()
    read: Mapped[int] = _figure()
    replied: Mapped[int] = _figure()


class FailureDay(db.Model):
    __tablename__ = "failure_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    error_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    failed: Mapped[int] = _figure()
    title: Mapped[str] = mapped_column(Text, default="", server_default="")


class Tally:
    """The dashboard's changes of one transaction: rows are added as they move, and `write` adds them up in at most
    three statements, in key order (a fixed lock order)."""

    def __init__(self, zone: ZoneInfo | None = None):
        self.zone = zone or workspace_zone()
        self.days: dict[tuple[date, int], Counter] = defaultdict(Counter)
        self.hours: dict[tuple[date, int], Counter] = defaultdict(Counter)
        self.failures: dict[tuple[date, int], int] = defaultdict(int)
        self.titles: dict[tuple[date, int], str] = {}

    def add(self, row, changes: Counter | dict, at: datetime) -> None:
        """A row's counter changes (lifecycle.report/move), on the day and hour of its send (`at` if never sent)."""
        figures = {FROM_COUNTERS[name]: value for name, value in changes.items() if name in FROM_COUNTERS and value}
        if not figures:
            return
        day, hour = self.when(row.sending_at or at, row.zone)
        self.days[(day, row.campaign_id)].update(figures)
        hourly = {name: figures[name] for name in HOUR_FIGURES if name in figures}
        if hourly:
            self.hours[(day, hour)].update(hourly)
        if "failed" in figures:
            key = (day, row.error_code or NO_CODE)
            self.failures[key] += figures["failed"]
            self.titles[key] = row.error_title or ""

    def add_figures(self, campaign_id: int, moment: datetime, zone: str | None = None, **figures) -> None:
        """Figures beyond the row's status (clicked, opted_out, cost) for the send at `moment`."""
        day, _ = self.when(moment, zone)
        self.days[(day, campaign_id)].update({name: value for name, value in figures.items() if value})

    def when(self, moment: datetime, zone: str | None) -> tuple[date, int]:
        """The workspace day and the recipient's local hour (the workspace's zone when the row has none)."""
        local = moment.astimezone(_zone(zone) or self.zone)
        return moment.astimezone(self.zone).date(), local.hour

    def write(self, session: Session) -> None:
        shard = random.randrange(SHARDS)
        _add(session, CampaignDay, ["day", "campaign_id"], [
            {"day": day, "campaign_id": campaign_id, "shard": shard, **{name: 0 for name in DAY_FIGURES},
             "cost": Decimal(0), **figures}
            for (day, campaign_id), figures in sorted(self.days.items())])
        _add(session, SendHour, ["day", "hour"], [
            {"day": day, "hour": hour, "shard": shard, **{name: 0 for name in HOUR_FIGURES}, **figures}
            for (day, hour), figures in sorted(self.hours.items())])
        _add(session, FailureDay, ["day", "error_code"], [
            {"day": day, "error_code": code, "shard": shard, "failed": failed, "title": self.titles[(day, code)]}
            for (day, code), failed in sorted(self.failures.items())], keep_latest=("title",))
        self.days.clear(), self.hours.clear(), self.failures.clear()


def record(session: Session, campaign_id: int, moment: datetime, zone: str | None = None, **figures) -> None:
    """Add figures (clicked=1, cost=Decimal("0.0125"), opted_out=1) to the day of a send at `moment` (a recipient
    row's `sending_at`), in the caller's transaction."""
    tally = Tally()
    tally.add_figures(campaign_id, moment, zone, **figures)
    tally.write(session)


def _add(session: Session, model, key: list[str], rows: list[dict], keep_latest: tuple[str, ...] = ()) -> None:
    if not rows:
        return
    summed = tuple(name for name in rows[0] if name not in (*key, "shard", *keep_latest))
    session.execute(adding(session, model.__table__, (*key, "shard"), summed, keep_latest), rows)


_zones: dict[str, ZoneInfo | None] = {}


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    if name not in _zones:
        try:
            _zones[name] = ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            _zones[name] = None
    return _zones[name]


# --- From the rows: the scan the tables stand in for, and the rebuild that refills them ----------------------------

BUCKET = 900  # seconds: every zone's offset from UTC is a whole number of quarter hours


def scan(session: Session, opted_out_ids: Select, zone: ZoneInfo | None = None) -> Tally:
    """Every row's figures, computed from the rows in two GROUP BYs (by campaign, zone, quarter hour of the send and
    error code), on the days and hours `Tally` would give them. `opted_out_ids` selects the ids of the rows answered
    by an opt-out (the webhooks area knows them: webhooks/inbound.py)."""
    tally = Tally(zone)
    moment = func.coalesce(Recipient.sending_at, Recipient.failed_at, Recipient.created_at)
    bucket = _quarter_hour(session, moment)
    reached = lambda rank: func.sum(cast(Recipient.reached >= rank, Integer))  # noqa: E731
    query = (select(Recipient.campaign_id, Recipient.zone, bucket.label("bucket"), Recipient.error_code,
                    func.max(Recipient.error_title).label("title"),
                    *(reached(rank).label(stage) for stage, rank in FUNNEL.items()),
                    func.sum(cast(Recipient.status == "failed", Integer)).label("failed"),
                    func.sum(Recipient.cost).label("cost"), func.count(Recipient.clicked_at).label("clicked"))
             .where((Recipient.reached > 0) | (Recipient.status == "failed"))
             .group_by(Recipient.campaign_id, Recipient.zone, bucket, Recipient.error_code))
    for row in session.execute(query):
        at = datetime.fromtimestamp(int(row.bucket) * BUCKET, timezone.utc)
        stand_in = SimpleNamespace(campaign_id=row.campaign_id, sending_at=None, zone=row.zone,
                                   error_code=row.error_code, error_title=row.title or "")
        tally.add(stand_in, {name: int(getattr(row, name) or 0) for name in FROM_COUNTERS}, at)
        if row.cost or row.clicked:
            tally.add_figures(row.campaign_id, at, row.zone, cost=row.cost or 0, clicked=int(row.clicked))
    for campaign_id, zone_name, quarter, opted_out in session.execute(_opted_out_rows(bucket, opted_out_ids)):
        tally.add_figures(campaign_id, datetime.fromtimestamp(int(quarter) * BUCKET, timezone.utc), zone_name,
                          opted_out=int(opted_out))
    return tally


def rebuild(session: Session, opted_out_ids: Select, zone: ZoneInfo | None = None) -> None:
    """Empty the tables and fill them from the rows (for an upgrade, or a repair), in the caller's transaction."""
    for model in (CampaignDay, SendHour, FailureDay):
        session.execute(delete(model))
    scan(session, opted_out_ids, zone).write(session)


def _opted_out_rows(bucket, answered: Select):
    return (select(Recipient.campaign_id, Recipient.zone, bucket, func.count())
            .where(Recipient.id.in_(answered)).group_by(Recipient.campaign_id, Recipient.zone, bucket))


def _quarter_hour(session: Session, moment):
    if is_sqlite(session):
        return cast(func.strftime("%s", moment), BigInteger) / BUCKET
    return cast(func.floor(func.extract("epoch", moment) / BUCKET), BigInteger)

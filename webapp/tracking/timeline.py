"""Sent, delivered and read per minute for a campaign, and the geometry of its server-rendered SVG chart."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from webapp.campaigns.models import Recipient
from webapp.transactions import is_sqlite

STAGES = ("sent", "delivered", "read")
# Bucket widths in minutes; the narrowest that keeps the chart within MAX_POINTS is used.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_POINTS = 240
EXPENSIVE = 0.1  # seconds: a timeline that took longer to compute is reused …
REUSE_FOR = 30.0  # … for this long (also the live fragment's polling interval)


@dataclass(frozen=True)
class Timeline:
    start: datetime | None  # the first bucket's start (UTC); None when nothing was sent yet
    step: int  # minutes per bucket
    series: dict[str, list[int]]  # per stage, one count per bucket

    @property
    def end(self) -> datetime | None:
        return self.start + timedelta(minutes=self.step * len(self.series["sent"])) if self.start else None

    @property
    def peak(self) -> int:
        return max((max(values, default=0) for values in self.series.values()), default=0)


def recent_timeline(session: Session, campaign_id: int) -> Timeline:
    """The timeline, reused for a while when it was expensive to draw: its GROUP BY reads every row of the
    campaign (about 2 s for a million rows on SQLite), so however many people watch, a process draws a
    large campaign's timeline at most once per REUSE_FOR seconds. Small campaigns are always exact and fresh."""
    cache = current_app.extensions.setdefault("campaign_timelines", {})
    reused = cache.get(campaign_id)
    if reused is not None and time.monotonic() < reused[0]:
        return reused[1]
    began = time.monotonic()
    data = timeline(session, campaign_id)
    if time.monotonic() - began > EXPENSIVE:
        cache[campaign_id] = (time.monotonic() + REUSE_FOR, data)
    else:
        cache.pop(campaign_id, None)
    return data


def timeline(session: Session, campaign_id: int) -> Timeline:
    """One GROUP BY per stage over the campaign's rows, bucketed to at most MAX_POINTS points."""
    per_minute = {stage: {} for stage in STAGES}
    for stage, minute, count in session.execute(_per_minute_query(session, campaign_id)):
        per_minute[stage][_as_minute(minute)] = count
    minutes = [m for counts in per_minute.values() for m in counts]
    if not minutes:
        return Timeline(None, 1, {stage: [] for stage in STAGES})
    first, last = min(minutes), max(minutes)
    span = int((last - first).total_seconds() // 60) + 1
    step = next((s for s in STEPS if span / s <= MAX_POINTS), STEPS[-1])
    buckets = -(-span // step)
    series = {stage: [0] * buckets for stage in STAGES}
    for stage, counts in per_minute.items():
        for minute, count in counts.items():
            series[stage][int((minute - first).total_seconds() // 60) // step] += count
    return Timeline(first, step, series)


def _per_minute_query(session: Session, campaign_id: int):
    parts = []
    for stage in STAGES:
        column = getattr(Recipient, f"{stage}_at")
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (UTC): its first 16 characters name the minute.
        minute = func.substr(column, 1, 16) if is_sqlite(session) else func.date_trunc("minute", column)
        parts.append(select(literal(stage).label("stage"), minute.label("minute"), func.count().label("n"))
                     .where(Recipient.campaign_id == campaign_id, column.is_not(None)).group_by(minute))
    return union_all(*parts)


def _as_minute(value) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Chart:
    """Numbers for the template's <svg>: a polyline per stage and the axes' labels."""

    width: int
    height: int
    left: int
    bottom: int
    lines: dict[str, str]  # stage -> "x,y x,y …"
    peak: int


def chart(data: Timeline, width: int = 720, height: int = 200) -> Chart:
    left, right, top, bottom = 48, 8, 10, height - 24
    peak = max(data.peak, 1)
    lines = {}
    for stage, values in data.series.items():
        values = values * 2 if len(values) == 1 else values  # a single bucket still draws a line
        count = len(values)
        step_x = (width - left - right) / max(count - 1, 1)
        lines[stage] = " ".join(
            f"{left + i * step_x:.1f},{bottom - (bottom - top) * value / peak:.1f}" for i, value in enumerate(values))
    return Chart(width, height, left, bottom, lines, data.peak)

"""The figures across campaigns for a chosen range, read from the daily figures (campaigns/daily.py), never the rows.

Shared by the Reports page, its CSV downloads and `GET /api/v1/dashboard`: each reads a few hundred aggregate rows
at most, whatever the number of recipients behind them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.campaigns.daily import DAY_FIGURES, HOUR_FIGURES, NO_CODE, CampaignDay, FailureDay, SendHour
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import Campaign
from webapp.senders.models import Sender

GROUPINGS = ("day", "week", "month")
PRESETS = (7, 30, 90)
LONGEST = 731  # days: two years, leap day included
FIGURES = (*DAY_FIGURES, "cost")


class RangeError(CampaignError):
    """A range or grouping we cannot draw; the message says what to choose instead."""


@dataclass(frozen=True)
class Range:
    start: date
    end: date  # included
    group: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def choose_range(today: date, *, days: str | None = None, start: str | None = None, end: str | None = None,
                 group: str | None = None) -> Range:
    """The range a person (or a program) asked for: the last 7, 30 or 90 days up to `today` (the workspace's), or
    from `start` to `end` (ISO dates, both included; `days` "custom" or none), grouped by day, week or month.
    Raises RangeError."""
    group = (group or "day").strip().lower()
    if group not in GROUPINGS:
        raise RangeError(f"“{group}” is not a grouping: choose day, week or month.", field="group")
    if days == "custom" or (not days and (start or end)):
        first, last = _date(start, "from"), _date(end, "to")
        if first > last:
            raise RangeError(f"The range starts ({first:%d %b %Y}) after it ends ({last:%d %b %Y}): swap the dates.",
                             field="from")
        if (last - first).days + 1 > LONGEST:
            raise RangeError("Choose a range of at most two years.", field="from")
        return Range(first, last, group)
    try:
        count = int(days or 30)
    except ValueError:
        count = 0
    if count not in PRESETS:
        raise RangeError("Choose the last 7, 30 or 90 days, or dates from and to.", field="days")
    return Range(today - timedelta(days=count - 1), today, group)


def _date(text: str | None, name: str) -> date:
    if not text:
        raise RangeError(f"Give both dates: the “{name}” date is missing.", field=name)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RangeError(f"“{text}” is not a date: write it as 2026-12-31.", field=name) from None


def period_start(day: date, group: str) -> date:
    """The first day of the day, week (Monday) or month that holds `day`."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def periods(chosen: Range) -> list[date]:
    """Every period of the range, empty ones too, so that a chart's axis has no holes."""
    starts, day = [], period_start(chosen.start, chosen.group)
    while day <= chosen.end:
        starts.append(day)
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1) if chosen.group == "month" \
            else day + timedelta(days=7 if chosen.group == "week" else 1)
    return starts


@dataclass
class Row:
    """One line of figures: a period, a template, a sender or an error."""
    label: str
    figures: dict
    key: object = None  # the period's first day, the error's code

    def rate(self, part: str, whole: str = "sent") -> float | None:
        return self.figures[part] / self.figures[whole] if self.figures.get(whole) else None


@dataclass
class Report:
    range: Range
    totals: Row
    trend: list[Row]
    templates: list[Row]
    senders: list[Row]
    failures: list[Row]
    hours: list[Row]
    empty: bool = field(default=False)  # nothing was sent in the range


def report(session: Session, chosen: Range) -> Report:
    """Every figure of the dashboard for `chosen`, in five small aggregate queries."""
    in_range = CampaignDay.day.between(chosen.start, chosen.end)
    sums = [func.sum(getattr(CampaignDay, name)).label(name) for name in FIGURES]
    by_day = {row.day: _figures(row) for row in session.execute(
        select(CampaignDay.day, *sums).where(in_range).group_by(CampaignDay.day))}
    trend = {start: _zero() for start in periods(chosen)}
    for day, figures in by_day.items():
        _add(trend[period_start(day, chosen.group)], figures)
    totals = _zero()
    for figures in by_day.values():
        _add(totals, figures)
    by_campaign = (select(CampaignDay.campaign_id, *sums).where(in_range).group_by(CampaignDay.campaign_id)
                   .subquery())
    template = func.coalesce(func.nullif(Campaign.template_name, ""), "(no template)")
    templates = _grouped(session, by_campaign, template, Campaign.template_language)
    senders = _grouped(session, by_campaign, Sender.label, Sender.display_phone_number)
    failed = session.execute(
        select(FailureDay.error_code, func.max(FailureDay.title), func.sum(FailureDay.failed))
        .where(FailureDay.day.between(chosen.start, chosen.end)).group_by(FailureDay.error_code)
        .order_by(func.sum(FailureDay.failed).desc(), FailureDay.error_code)).all()
    hours = {hour: dict(zip(HOUR_FIGURES, (int(v or 0) for v in values))) for hour, *values in session.execute(
        select(SendHour.hour, *(func.sum(getattr(SendHour, name)) for name in HOUR_FIGURES))
        .where(SendHour.day.between(chosen.start, chosen.end)).group_by(SendHour.hour))}
    return Report(
        range=chosen,
        totals=Row("Total", totals),
        trend=[Row(_period_label(start, chosen.group), figures, start) for start, figures in trend.items()],
        templates=templates, senders=senders,
        failures=[Row(title or ("No error code" if code == NO_CODE else f"Error {code}"), {"failed": int(count)}, code)
                  for code, title, count in failed],
        hours=[Row(f"{hour:02d}:00", hours.get(hour, dict.fromkeys(HOUR_FIGURES, 0)), hour) for hour in range(24)],
        empty=not totals["sent"] and not totals["failed"],
    )


def _grouped(session: Session, by_campaign, *label) -> list[Row]:
    """The figures by template (name, language) or by sender (label, number), largest first."""
    sums = [func.sum(getattr(by_campaign.c, name)) for name in FIGURES]
    rows = session.execute(
        select(*label, *sums).join(Campaign, Campaign.id == by_campaign.c.campaign_id)
        .join(Sender, Sender.id == Campaign.sender_id).group_by(*label)).all()
    found = [Row(f"{first} ({second})" if second else str(first), _figures_of(values)) for first, second, *values in rows]
    return sorted(found, key=lambda row: (-row.figures["sent"], row.label))


def _figures(row) -> dict:
    return _figures_of([getattr(row, name) for name in FIGURES])


def _figures_of(values) -> dict:
    figures = {name: int(value or 0) for name, value in zip(DAY_FIGURES, values)}
    figures["cost"] = Decimal(values[len(DAY_FIGURES)] or 0).quantize(Decimal("0.0001"))
    return figures


def _zero() -> dict:
    return {**dict.fromkeys(DAY_FIGURES, 0), "cost": Decimal("0.0000")}


def _add(into: dict, figures: dict) -> None:
    for name, value in figures.items():
        into[name] += value


def _period_label(start: date, group: str) -> str:
    if group == "month":
        return f"{start:%b %Y}"
    if group == "week":
        return f"Week of {start:%d %b %Y}"
    return f"{start:%a %d %b %Y}"


def today_in(zone) -> date:
    return datetime.now(zone).date()

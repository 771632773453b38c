"""Sent, delivered and read over time for a campaign, in buckets as wide as its length calls for (seconds for a
campaign that took a minute, hours for one that took days), and the geometry of its server-rendered SVG chart.

The figures are those kept as rows move (campaigns/timeline_counts.py), never a scan of the campaign's rows."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign
from webapp.campaigns.timeline_counts import KEPT, STAGES, Source

# Bucket widths in seconds; the narrowest that keeps the chart within MAX_POINTS is used.
STEPS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
MAX_POINTS = 120


@dataclass(frozen=True)
class Timeline:
    start: datetime | None  # the first bucket's start (UTC); None when nothing was sent yet
    step: int  # seconds per bucket
    series: dict[str, list[int]]  # per stage, one count per bucket

    @property
    def end(self) -> datetime | None:
        return self.start + timedelta(seconds=self.step * self.buckets) if self.start else None

    @property
    def buckets(self) -> int:
        return len(self.series["sent"])

    @property
    def peak(self) -> int:
        return max((max(values, default=0) for values in self.series.values()), default=0)

    @property
    def unit(self) -> str:
        """The bucket's width in words, as in "messages per 10 s" or "per minute"."""
        return duration_words(self.step)


def duration_words(seconds: int) -> str:
    for size, one, short in ((86400, "day", "days"), (3600, "hour", "h"), (60, "minute", "min"), (1, "second", "s")):
        if seconds % size == 0:
            count = seconds // size
            return one if count == 1 else f"{count} {short}"
    return f"{seconds} s"


def recent_timeline(session: Session, campaign: Campaign) -> Timeline:
    """The campaign's timeline now, from its kept figures (a few hundred rows however large the campaign)."""
    return timeline(session, campaign.id)


def timeline(session: Session, campaign_id: int, source: Source = KEPT) -> Timeline:
    """The narrowest buckets that draw everything from the first stamp to the last in at most MAX_POINTS, so a
    campaign that took a minute is drawn by the second, one that took days (or had a read receipt the next day) by
    the hour. `source` is where the figures come from: those kept as rows move, or (for tests and the benchmark's
    baseline) a scan of the rows."""
    span = source.span(session, campaign_id)
    if span is None:
        return Timeline(None, STEPS[0], {stage: [] for stage in STAGES})
    first, last = span
    step = _step_for(last + 1 - first)
    start = first // step * step
    series = {stage: [0] * ((last - start) // step + 1) for stage in STAGES}
    for stage, at, count in source.buckets(session, campaign_id, step):
        series[stage][(at - start) // step] += count
    return Timeline(datetime.fromtimestamp(start, timezone.utc), step, series)


def _step_for(seconds: int) -> int:
    """The narrowest step that draws `seconds` in at most MAX_POINTS buckets."""
    return next((s for s in STEPS if seconds / s <= MAX_POINTS), STEPS[-1])


# --- The chart --------------------------------------------------------------------------------------------

BARS_UP_TO = 30  # buckets: fewer are drawn as bars (a line through one or two points says nothing)
TICK_SPACINGS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600,
                 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)
MOST_TIME_TICKS = 6


@dataclass(frozen=True)
class Bar:
    stage: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    at: float  # x (time ticks) or y (count ticks) in the SVG
    value: datetime | int


@dataclass(frozen=True)
class Chart:
    """Numbers for the template's <svg>: bars (few buckets) or a polyline per stage (many), and both axes."""

    width: int
    height: int
    left: int  # the plot's edges
    right: int
    top: int
    bottom: int
    bars: list[Bar]
    lines: dict[str, str]  # stage -> "x,y x,y …"
    time_ticks: list[Tick]
    time_format: str  # for the `localtime` filter
    count_ticks: list[Tick]


def chart(data: Timeline, zone: tzinfo, width: int = 720, height: int = 220) -> Chart:
    left, right, top, bottom = 56, width - 12, 12, height - 40
    top_count = _round_up(data.peak)
    count_ticks = [Tick(bottom - (bottom - top) * value / top_count, value)
                   for value in range(0, top_count + 1, _count_spacing(top_count))]
    slot = (right - left) / max(data.buckets, 1)

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / top_count

    bars, lines = [], {}
    if data.buckets <= BARS_UP_TO:
        bar = slot * 0.8 / len(STAGES)
        for stage_index, (stage, values) in enumerate(data.series.items()):
            for i, value in enumerate(values):
                if value:
                    bars.append(Bar(stage, left + i * slot + slot * 0.1 + stage_index * bar, y(value), bar,
                                    bottom - y(value)))
    else:
        for stage, values in data.series.items():
            lines[stage] = " ".join(f"{left + (i + 0.5) * slot:.1f},{y(value):.1f}" for i, value in enumerate(values))
    time_ticks, time_format = _time_ticks(data, zone, left, right)
    return Chart(width, height, left, right, top, bottom, bars, lines, time_ticks, time_format, count_ticks)


def _round_up(peak: int) -> int:
    """The top of the count axis: the peak rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if peak <= 1:
        return 1
    power = 10 ** int(math.log10(peak))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= peak)


def _count_spacing(top: int) -> int:
    """Ticks at 0, ¼ or ½ of the top and the top: a few whole numbers."""
    for parts in (4, 2, 1):
        if top % parts == 0:
            return top // parts
    return top


def _time_ticks(data: Timeline, zone: tzinfo, left: int, right: int) -> tuple[list[Tick], str]:
    """A few round moments of the workspace's clock (every 10 s, 5 minutes, 3 hours …) along the time axis."""
    if data.start is None:
        return [], "%H:%M"
    span = data.step * data.buckets
    spacing = next((s for s in TICK_SPACINGS if s >= data.step and span / s <= MOST_TIME_TICKS), TICK_SPACINGS[-1])
    first = int(data.start.timestamp())
    offset = int(data.start.astimezone(zone).utcoffset().total_seconds())  # round on the local clock
    ticks, at = [], -(-(first + offset) // spacing) * spacing - offset
    while at <= first + span:
        ticks.append(Tick(left + (right - left) * (at - first) / span, datetime.fromtimestamp(at, timezone.utc)))
        at += spacing
    many_days = data.start.astimezone(zone).date() != (data.end - timedelta(seconds=1)).astimezone(zone).date()
    if spacing >= 86400:
        return ticks, "%d %b"
    time_format = "%H:%M:%S" if spacing < 60 else "%H:%M"
    return ticks, ("%d %b " + time_format) if many_days else time_format

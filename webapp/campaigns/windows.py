"""Sending windows: the hours of the recipient's own day a campaign may reach them, and the zone each recipient is in.

A window is two wall-clock times (09:00–20:00; 20:00–08:00 spans midnight), read in each recipient's zone with
zoneinfo, so daylight saving is the zone's own. A recipient's zone is fixed at launch (Recipient.zone): their
contact's `timezone` attribute (any case) when it names a zone, else the zone phonenumbers gives their number —
the first, when its data names several (a country-wide mobile range) — else, for a number with no zone data
(non-geographic), the workspace's zone. The dispatcher claims only rows whose zone is open now
(campaigns/dispatch.py); the forecast says when such a campaign ends (`finish`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_timezones

from webapp.campaigns.errors import CampaignError
from webapp.workspace.zone import UnknownZone, resolve_zone

ZONE_ATTRIBUTE = "timezone"  # the contact attribute that names a recipient's zone, in any case
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")
_UNKNOWN = "Etc/Unknown"  # what phonenumbers answers for a number without zone data


def _minutes(text: str, which: str, field: str) -> int:
    found = _CLOCK.match(text.strip())
    if not found:
        raise CampaignError(f"The window's {which} “{text.strip()}” is not a time: write it as HH:MM, e.g. 09:00.",
                            field=field)
    return int(found[1]) * 60 + int(found[2])


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class SendingWindow:
    opens: int   # minutes after local midnight
    closes: int  # before `opens`: the window spans midnight

    @classmethod
    def parse(cls, opens: str | None, closes: str | None) -> SendingWindow | None:
        """The window two typed times make (None when both are blank); raises CampaignError naming the field."""
        opens, closes = (opens or "").strip(), (closes or "").strip()
        if not opens and not closes:
            return None
        if not opens or not closes:
            missing = "window_opens" if not opens else "window_closes"
            raise CampaignError("Give the window both ends, e.g. 09:00 to 20:00, or leave both blank to send at "
                                "any hour.", field=missing)
        window = cls(_minutes(opens, "start", "window_opens"), _minutes(closes, "end", "window_closes"))
        if window.opens == window.closes:
            raise CampaignError(f"The window opens and closes at {clock(window.opens)}: choose an end different "
                                "from the start (an end before the start spans midnight, e.g. 20:00 to 08:00).",
                                field="window_closes")
        return window

    @classmethod
    def of(cls, campaign) -> SendingWindow | None:
        if campaign.window_opens is None or campaign.window_closes is None:
            return None
        return cls(campaign.window_opens, campaign.window_closes)

    def __str__(self) -> str:
        return f"{clock(self.opens)}–{clock(self.closes)}"

    @property
    def hours(self) -> float:
        """How long the window is open each day (on a day without a daylight-saving change)."""
        return ((self.closes - self.opens) % 1440) / 60

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if self.opens < self.closes:
            return self.opens <= minute < self.closes
        return minute >= self.opens or minute < self.closes

    def spans(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The open stretches of [start, end) in UTC, in order (a local time that daylight saving skips is read
        as zoneinfo reads it: the clock jumps, the window opens at the jump)."""
        found = []
        day = start.astimezone(zone).date() - timedelta(days=1)  # a window spanning midnight opened the day before
        while True:
            opened = _at(day, self.opens, zone)
            if opened >= end:
                return found
            closed = _at(day + timedelta(days=1 if self.closes < self.opens else 0), self.closes, zone)
            if closed > start:
                found.append((max(opened, start), min(closed, end)))
            day += timedelta(days=1)

    def next_opening(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """When the window opens next in `zone` after `moment` (UTC)."""
        day = moment.astimezone(zone).date()
        while (opened := _at(day, self.opens, zone)) <= moment:
            day += timedelta(days=1)
        return opened


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone).astimezone(timezone.utc)


def open_zones(window: SendingWindow, zones: Iterable[str], moment: datetime) -> list[str]:
    return [name for name in zones if window.is_open(moment, ZoneInfo(name))]


# --- Where a recipient is ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Zoned:
    zone: str
    how: str                # "attribute", "number", "first" (the number's data names several), "workspace"
    choices: int = 1        # the zones the number's data names ("first": more than one)
    bad_attribute: bool = False  # a `timezone` attribute named no zone: the number's zone stood in


def attribute_zone(attributes: Mapping) -> str:
    """The value of the contact's `timezone` attribute, whatever the case of its name ("" when none)."""
    return next((str(value or "").strip() for key, value in (attributes or {}).items()
                 if key.casefold() == ZONE_ATTRIBUTE), "")


@lru_cache(maxsize=4096)
def _named_zone(text: str) -> str | None:
    try:
        return resolve_zone(text)
    except UnknownZone:
        return None


@lru_cache(maxsize=65536)
def _number_zones(key: tuple[str, int], phone: str) -> tuple[str, ...]:
    """The zones phonenumbers names for a number. Its data goes by the first nine digits and the number's type,
    which its length settles: numbers that agree on both share one answer (`key`), so a launch computes few."""
    try:
        zones = number_timezones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(zone for zone in zones if zone != _UNKNOWN)


def number_zones(phone: str) -> tuple[str, ...]:
    return _number_zones((phone[:10], len(phone)), phone)


def zone_of(phone: str, attribute: str, fallback: str) -> Zoned:
    """Where a recipient is: their `timezone` attribute's zone, else their number's, else `fallback` (the
    workspace's zone)."""
    named = _named_zone(attribute) if attribute else None
    if named:
        return Zoned(named, "attribute")
    zones = number_zones(phone)
    if not zones:
        return Zoned(fallback, "workspace", 0, bool(attribute))
    return Zoned(zones[0], "first" if len(zones) > 1 else "number", len(zones), bool(attribute))


def country_name(phone: str) -> str:
    """"Brazil", for the forecast's word on a country whose numbers name several zones."""
    from phonenumbers import geocoder  # its data takes 0.7 s to load: only the forecasts that name a country need it

    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return "its country"
    # country_name_for_number answers "" for a calling code several regions share (+61: Australia, Christmas
    # Island, Cocos): the number's own region names it.
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code)
    return geocoder._region_display_name(region, "en") or f"+{number.country_code}"  # noqa: SLF001 - no public twin


# --- When a windowed campaign ends -------------------------------------------------------------------

HORIZON_DAYS = 60  # a forecast looks this far ahead; past it, "more than 60 days"


def finish(window: SendingWindow, per_zone: Mapping[str, int], rate: float, start: datetime) -> datetime | None:
    """When the last message goes, or None past HORIZON_DAYS.

    The model, simple and honest: the number sends at its full `rate` whenever at least one zone with rows left
    is open, drawing on the open zones' rows together (the dispatcher claims them in id order, mixed), and not at
    all while every zone with rows left is closed. It ignores the daily messaging limit (said apart), retries,
    Meta slowing the number down and time lost at handovers, so it errs early.
    """
    left = {ZoneInfo(name): count for name, count in per_zone.items() if count > 0}
    end = start + timedelta(days=HORIZON_DAYS)
    edges = {zone: window.spans(start, end, zone) for zone in left}
    moments = sorted({start, *(moment for spans in edges.values() for span in spans for moment in span)})
    for since, until in zip(moments, moments[1:]):
        middle = since + (until - since) / 2
        open_now = [zone for zone in left if left[zone] > 0 and window.is_open(middle, zone)]
        if not open_now:
            continue
        capacity = (until - since).total_seconds() * rate
        waiting = sum(left[zone] for zone in open_now)
        if waiting <= capacity:
            finished = since + timedelta(seconds=waiting / rate)
            for zone in open_now:
                left[zone] = 0
            if not any(left.values()):
                return finished
            continue
        share = capacity / waiting  # the open zones' rows go in proportion to how many each has left
        for zone in open_now:
            left[zone] -= left[zone] * share
    return None

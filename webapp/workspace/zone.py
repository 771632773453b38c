"""The workspace's time zone: timestamps are stored in UTC and shown, chosen and exported in this zone."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import g, has_request_context

from webapp.workspace.models import WorkspaceSettings


def workspace_zone() -> ZoneInfo:
    """The workspace's zone (UTC when its name is unknown), read once per request: a log page shows
    hundreds of timestamps."""
    if has_request_context() and "workspace_zone" in g:
        return g.workspace_zone
    try:
        zone = ZoneInfo(WorkspaceSettings.get().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    if has_request_context():
        g.workspace_zone = zone
    return zone


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp shown in the workspace's time zone (the `localtime` template filter)."""
    if value is None:
        return "—"
    return value.astimezone(workspace_zone()).strftime(fmt)


class UnknownZone(ValueError):
    """What a person typed names no time zone, or more than one; the message says which and what to type."""


def zone_names() -> list[str]:
    """Every IANA zone name this system knows, sorted: the list the time-zone fields offer."""
    return _ZONES.names


def resolve_zone(typed: str) -> str:
    """The IANA name of the zone a person typed: the name itself in any case, or its city ("New York",
    "sao paulo", "Buenos_Aires") when that names one zone (links to one zone count as one). Raises UnknownZone."""
    text = " ".join(typed.split())
    if not text:
        raise UnknownZone("Choose a time zone, e.g. America/New_York.")
    key = _key(text)
    found = _ZONES.by_name.get(key) or _ZONES.by_city.get(key.rsplit("/", 1)[-1], [])
    if isinstance(found, str):
        return found
    zones = _distinct(found)
    if len(zones) == 1:
        return zones[0]
    if zones:
        raise UnknownZone(f"“{text}” could be {', '.join(zones[:-1])} or {zones[-1]}: choose one.")
    raise UnknownZone(f"“{text}” is not a time zone we know. Type a city or a name from the list, "
                      "e.g. New York or Europe/Madrid.")


def _key(text: str) -> str:
    """Any case, spaces or underscores, accents or none: "São Paulo" and "sao_paulo" are one key."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return plain.casefold().replace(" ", "_")


class _Zones:
    """The zone names, by their key and by their last part (the city), read once."""

    @cached_property
    def names(self) -> list[str]:
        return sorted(available_timezones())

    @cached_property
    def by_name(self) -> dict[str, str]:
        return {_key(name): name for name in self.names}

    @cached_property
    def by_city(self) -> dict[str, list[str]]:
        cities: dict[str, list[str]] = {}
        for name in self.names:
            cities.setdefault(_key(name.rsplit("/", 1)[-1]), []).append(name)
        return cities


_ZONES = _Zones()
# Twice a month from 1970 to 2037: two names that agree on every one of these instants are one zone (a link).
_PROBES = [datetime(year, month, day, 12, tzinfo=timezone.utc)
           for year in range(1970, 2038) for month in range(1, 13) for day in (1, 16)]


def _distinct(names: list[str]) -> list[str]:
    """The names that are different zones: of names that keep the same clock, the most specific one
    ("America/Argentina/Buenos_Aires" rather than its older link "America/Buenos_Aires")."""
    kept: list[tuple[str, tuple]] = []
    for name in sorted(names, key=lambda name: (-name.count("/"), name)):
        offsets = tuple(probe.astimezone(ZoneInfo(name)).utcoffset() for probe in _PROBES)
        if all(offsets != other for _, other in kept):
            kept.append((name, offsets))
    return [name for name, _ in kept]


# --- Times in exports: what a spreadsheet reads as a date and time, in the workspace's zone -----------------------

SPREADSHEET_TIME = "%Y-%m-%d %H:%M:%S"


def spreadsheet_time(value: datetime | None, zone: ZoneInfo) -> str:
    """A UTC timestamp as the wall-clock time of `zone`, in the form spreadsheets read as a date ("" for none)."""
    return value.astimezone(zone).strftime(SPREADSHEET_TIME) if value is not None else ""


def zone_heading(zone: ZoneInfo, start: datetime, end: datetime) -> str:
    """The zone of an export's times for its column headers: "America/New_York, UTC−05:00", with both offsets
    ("UTC−05:00/UTC−04:00") when daylight saving changes it between `start` and `end` (the times it may hold)."""
    if zone.key == "UTC":
        return "UTC"
    days = min(max((end - start).days, 0), 366)  # a year holds every offset a zone's rules give today
    moments = [start, end, *(end - timedelta(days=day) for day in range(days))]
    offsets = sorted({moment.astimezone(zone).utcoffset() for moment in moments})
    return f"{zone.key}, {'/'.join(_utc_offset(offset) for offset in offsets)}"


def _utc_offset(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    sign = "−" if minutes < 0 else "+"  # a true minus sign, as in "UTC−05:00"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

"""The workspace's time zone: timestamps are stored in UTC and shown, chosen and exported in this zone."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

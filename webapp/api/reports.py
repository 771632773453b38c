"""`GET /api/v1/dashboard/report`: the Reports page's figures as JSON, for a range and a grouping
(webapp/campaigns/trends.py decides; a range it cannot draw is 400 with the field it is about)."""
from __future__ import annotations

from webapp.api.blueprint import api
from webapp.api.errors import ApiError
from webapp.api.routing import Call
from webapp.campaigns.daily import DAY_FIGURES, HOUR_FIGURES
from webapp.campaigns.trends import RangeError, Row, choose_range, report, today_in
from webapp.extensions import db
from webapp.workspace.zone import workspace_zone

QUERY = {
    "from": {"type": "string", "format": "date", "description": "The first day (YYYY-MM-DD, the workspace's zone)."},
    "to": {"type": "string", "format": "date", "description": "The last day, included; at most two years after "
                                                              "`from`."},
    "days": {"type": "integer", "description": "Instead of from and to: the last 7, 30 or 90 "
                                                                    "days up to today (30 without a range)."},
    "group": {"type": "string", "default": "day",
              "description": "Trend periods: day, week (from Monday) or month."},
}


@api.route("GET", "/dashboard/report", tag="Broadcasts", scope="broadcasts:read", response="DashboardReportOne",
           query=QUERY, summary="Totals and trends across broadcasts, by day, week or month")
def dashboard_report(call: Call):
    """The Reports page's figures: messages count on the workspace day they were sent (read, replied and failed
    too), from daily figures kept as statuses arrive. `hours` is the best hours to send: the read and reply rates
    by the hour they were sent in the recipient's local time."""
    query = call.query
    zone = workspace_zone()
    try:
        chosen = choose_range(today_in(zone), days=str(query["days"]) if "days" in query else None,
                              start=query.get("from"), end=query.get("to"), group=query.get("group"))
    except RangeError as error:
        raise ApiError("invalid_request", error.message, [{"field": error.field, "message": error.message}]) from None
    found = report(db.session, chosen)
    return {"data": {
        "from": chosen.start.isoformat(), "to": chosen.end.isoformat(), "group": chosen.group, "zone": zone.key,
        "totals": _figures(found.totals),
        "trend": [{"period": row.key.isoformat(), **_figures(row)} for row in found.trend],
        "templates": [{"name": row.label, **_figures(row)} for row in found.templates],
        "senders": [{"name": row.label, **_figures(row)} for row in found.senders],
        "failures": [{"code": row.key or None, "title": row.label, "failed": row.figures["failed"]}
                     for row in found.failures],
        "hours": [{"hour": row.key, **{name: row.figures[name] for name in HOUR_FIGURES},
                   "read_rate": _percent(row, "read"), "reply_rate": _percent(row, "replied")} for row in found.hours],
    }}


def _figures(row: Row) -> dict:
    return {**{name: row.figures[name] for name in DAY_FIGURES}, "cost": float(row.figures["cost"])}


def _percent(row: Row, part: str) -> float | None:
    rate = row.rate(part)
    return None if rate is None else round(rate * 100, 1)

"""The Reports page: totals and trends across campaigns for a chosen range, each chart with its numbers and a CSV."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from webapp.campaigns.costs import money
from webapp.campaigns.trends import Report, RangeError, choose_range, report, today_in
from webapp.dashboard.charts import Chart, line_chart
from webapp.dashboard.report_tables import COLUMNS, MESSAGES, PROBLEMS, as_csv, tables
from webapp.extensions import db
from webapp.pricing.rate_card import ensure_card
from webapp.workspace.zone import workspace_zone

bp = Blueprint("reports", __name__)


def _chosen():
    args = request.args
    return choose_range(today_in(workspace_zone()), days=args.get("days"), start=args.get("from"),
                        end=args.get("to"), group=args.get("group"))


@bp.get("/reports/")
def index():
    try:
        found = report(db.session, _chosen())
    except RangeError as error:
        return render_template("reports/index.html", error=error, args=request.args), 400
    currency = ensure_card(db.session).currency
    return render_template("reports/index.html", report=found, tables=tables(found), charts=_charts(found, currency),
                           args=request.args, zone=workspace_zone().key, cost=money(found.totals.figures["cost"], currency))


@bp.get("/reports/<name>.csv")
def download(name: str):
    try:
        found = report(db.session, _chosen())
    except RangeError as error:
        return Response(error.message + "\n", status=400, mimetype="text/plain")
    table = tables(found).get(name)
    if table is None:
        abort(404)
    filename = f"{name}-{found.range.start}-to-{found.range.end}-by-{found.range.group}.csv"
    return Response(as_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _axis_labels(found: Report) -> list[str]:
    """The periods as the x axis names them, short enough for six to fit under a chart on a phone: "04 Nov" (or
    "Nov" by month), with the year only when the range spans two."""
    starts = [row.key for row in found.trend]
    years = len({start.year for start in starts}) > 1
    shape = ("%b %Y" if years else "%b") if found.range.group == "month" else ("%d %b %Y" if years else "%d %b")
    return [start.strftime(shape) for start in starts]


def _charts(found: Report, currency: str) -> dict[str, Chart]:
    """A chart for each trend table, and the best hours' rates."""
    labels = _axis_labels(found)
    by = lambda names: {COLUMNS[name]: [float(row.figures[name]) for row in found.trend] for name in names}  # noqa: E731
    hours = [row.label for row in found.hours]
    rate = lambda part: [100 * (row.rate(part) or 0) for row in found.hours]  # noqa: E731
    return {
        "messages": line_chart("Messages", labels, by(MESSAGES), "Messages", whole=True),
        "problems": line_chart("Failed and opted out", labels, by(PROBLEMS), "Messages", whole=True),
        "cost": line_chart("Cost", labels, by(("cost",)), f"Cost ({currency})"),
        "hours": line_chart("Read and reply rates by the recipient's local hour", hours,
                            {"Read rate": rate("read"), "Reply rate": rate("replied")}, "Rate", percent=True),
    }

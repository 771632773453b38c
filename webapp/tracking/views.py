"""The campaign page's live parts (its poll, counters, timeline, log) and the log's CSV export; login required."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, make_response, render_template, request, stream_with_context
from sqlalchemy.orm import lazyload

from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.fragments import answer, target
from webapp.timestamps import utcnow
from webapp.tracking import campaign_page
from webapp.tracking.columns import PAGE_COLUMNS, page_cells
from webapp.tracking.log import LogFilters, error_codes, export_csv, log_page
from webapp.tracking.services import Seen, is_live
from webapp.tracking.timeline import chart, recent_timeline
from webapp.url_numbers import LARGEST, number_arg
from webapp.workspace.zone import workspace_zone

bp = Blueprint("tracking", __name__, url_prefix="/campaigns/<id:campaign_id>")

# What each htmx target of the log gets; any other request gets the log as a page of its own.
LOG_FRAGMENTS = {"recipient-log": "tracking/partials/recipient_log.html",
                 "recipient-log-results": "tracking/partials/recipient_log_results.html"}
# The event the page's poll answers with when the campaign changed: the timeline and the log refresh on it.
CHANGED = "campaign-changed"
CHANGED_FROM_BODY = f"{CHANGED} from:body"
LARGEST_EPOCH = 2**37  # seconds: far past any date a page carries


def _campaign(campaign_id: int) -> Campaign:
    # Without its sender (joined by default): these fragments are polled, and never show it.
    return db.session.get(Campaign, campaign_id, options=[lazyload(Campaign.sender)]) or abort(404)


@bp.get("/live")
def live(campaign_id: int):
    """The campaign page's poll: the poller itself (with when to ask again), and out of band the heading,
    actions, banners, dates and counters, all from one read of the campaign. When something changed since
    the page's last look (`seen`), an HX-Trigger tells the timeline and the log to refresh; when the status
    changed shape (a scheduled campaign started), the main region comes too, so the page turns live by itself."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    parts = campaign_page.parts(campaign, _seen(request.args), body=False)
    response = make_response(render_template("tracking/partials/campaign_live.html", **parts))
    if parts["state"].changed:
        response.headers["HX-Trigger"] = CHANGED
    return response


def _seen(args) -> Seen:
    """What the polling page shows, from the query its poller carries (tracking/partials/campaign_poll.html)."""
    since = number_arg(args, "since", least=0, most=LARGEST_EPOCH)
    return Seen(args.get("seen", "")[:32], args.get("status", "")[:16],
                datetime.fromtimestamp(since, timezone.utc) if since is not None else utcnow())


@bp.get("/live/counters")
def counters(campaign_id: int):
    """The counters alone, as the page shows them (the page's poll brings them; this serves other pages)."""
    return render_template("tracking/partials/campaign_counters.html",
                           **campaign_page.counters_parts(_campaign(campaign_id)))


@bp.get("/live/timeline")
def timeline_chart(campaign_id: int):
    """Drawn when the page loads its live part, and again each time its poll says the campaign changed."""
    campaign = _campaign(campaign_id)
    data = recent_timeline(db.session, campaign)
    zone = workspace_zone()
    return render_template("tracking/partials/campaign_timeline.html", campaign=campaign, refresh_on=CHANGED_FROM_BODY,
                           timeline=data, chart=chart(data, zone), zone=zone.key)


@bp.get("/log")
def log(campaign_id: int):
    """One URL, three answers: the whole log section, just its results (filtering, paging, polling), or a page."""
    campaign = _campaign(campaign_id)
    filters = LogFilters.from_args(request.args)
    page = log_page(db.session, campaign_id, filters, after=number_arg(request.args, "after", least=0, most=LARGEST),
                    before=number_arg(request.args, "before", least=0, most=LARGEST))
    template = LOG_FRAGMENTS.get(target(), "tracking/log_page.html")
    needs_form = template != LOG_FRAGMENTS["recipient-log-results"]
    return answer(
        template, campaign=campaign, live=is_live(campaign), filters=filters, page=page, columns=PAGE_COLUMNS, page_cells=page_cells,
        refresh_on=_log_refresh(campaign),
        error_codes=error_codes(db.session, campaign_id) if needs_form else [],
        # what the polling of this page asks again: the same filters and the same page
        log_state={**filters.args(), **{k: v for k, v in request.args.items() if k in ("after", "before")}})


def _log_refresh(campaign: Campaign) -> str | None:
    """On the campaign page the log refreshes when the page's poll says the campaign changed; on its own page
    it polls by itself while the campaign is live."""
    if target():
        return CHANGED_FROM_BODY
    return "every 5s" if is_live(campaign) else None


@bp.get("/log.csv")
def export(campaign_id: int):
    """The filtered log as a CSV download, streamed; times in the workspace's zone."""
    campaign = _campaign(campaign_id)
    rows = export_csv(db.session, campaign.id, LogFilters.from_args(request.args), workspace_zone(),
                      since=campaign.created_at)
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}-recipients.csv"'})

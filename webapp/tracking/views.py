"""The campaign page's live fragments (counters, timeline, log) and the log's CSV export; login required."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from sqlalchemy.orm import lazyload

from webapp.campaigns.models import Campaign
from webapp.campaigns.presenters import slowed_by_meta
from webapp.campaigns.turns import sending_instead
from webapp.campaigns.workers import unserved
from webapp.extensions import db
from webapp.fragments import answer, target
from webapp.tracking.columns import PAGE_COLUMNS
from webapp.tracking.log import LogFilters, error_codes, export_csv, log_page
from webapp.tracking.services import counters_poll_seconds, figures, is_live
from webapp.tracking.timeline import chart, recent_timeline
from webapp.url_numbers import LARGEST, number_arg
from webapp.workspace.zone import workspace_zone

bp = Blueprint("tracking", __name__, url_prefix="/campaigns/<id:campaign_id>")

# What each htmx target of the log gets; any other request gets the log as a page of its own.
LOG_FRAGMENTS = {"recipient-log": "tracking/partials/recipient_log.html",
                 "recipient-log-results": "tracking/partials/recipient_log_results.html"}


def _campaign(campaign_id: int) -> Campaign:
    # Without its sender (joined by default): these fragments are polled, and never show it.
    return db.session.get(Campaign, campaign_id, options=[lazyload(Campaign.sender)]) or abort(404)


@bp.get("/live/counters")
def counters(campaign_id: int):
    """Polled while the campaign sends and its webhooks settle; after that the fragment carries no trigger."""
    campaign = _campaign(campaign_id)
    return render_template("tracking/partials/campaign_counters.html", campaign=campaign,
                           poll=counters_poll_seconds(campaign), figures=figures(db.session, campaign_id),
                           unserved=unserved([campaign.status]),
                           sending_instead=sending_instead(db.session, campaign), slowed=slowed_by_meta(campaign))


@bp.get("/live/timeline")
def timeline_chart(campaign_id: int):
    """Polled every 30 s while the campaign is live (it reads rows, unlike the counters)."""
    campaign = _campaign(campaign_id)
    data = recent_timeline(db.session, campaign_id)
    return render_template("tracking/partials/campaign_timeline.html", campaign=campaign, live=is_live(campaign),
                           timeline=data, chart=chart(data))


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
        template, campaign=campaign, live=is_live(campaign), filters=filters, page=page, columns=PAGE_COLUMNS,
        error_codes=error_codes(db.session, campaign_id) if needs_form else [],
        # what the polling of this page asks again: the same filters and the same page
        log_state={**filters.args(), **{k: v for k, v in request.args.items() if k in ("after", "before")}})


@bp.get("/log.csv")
def export(campaign_id: int):
    """The filtered log as a CSV download, streamed; times in the workspace's zone."""
    campaign = _campaign(campaign_id)
    rows = export_csv(db.session, campaign.id, LogFilters.from_args(request.args), workspace_zone(),
                      since=campaign.created_at)
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}-recipients.csv"'})

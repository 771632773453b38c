"""The campaign page's parts, all drawn from one LiveState: the page itself (campaigns.show) and its poll
(tracking.live) render the same parts from the same values, so a polled heading can never disagree with the
counters under it."""
from __future__ import annotations

from webapp.campaigns import presenters
from webapp.campaigns.costs import campaign_cost
from webapp.campaigns.forms import ScheduleForm, TestSendForm
from webapp.campaigns.models import Campaign
from webapp.campaigns.turns import sending_instead
from webapp.campaigns.workers import unserved
from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.tracking.clicks import link_figures
from webapp.tracking.services import Seen, live_state, shape
from webapp.workspace.zone import workspace_zone


def parts(campaign: Campaign, shown: Seen | None = None, *, body: bool = True,
          schedule_form: ScheduleForm | None = None, test_form: TestSendForm | None = None) -> dict:
    """The template context of the page's parts for a page that shows `shown` (None: the whole page, drawn
    afresh). The main region (`body`) is only drawn when asked, or when its shape changed since `shown`."""
    live = shape(campaign.status) == "live"
    workers = _live_parts(campaign) if live else {}
    state = live_state(db.session, campaign, shown, utcnow(), also=tuple(workers.values()))
    facts = shown is None or state.changed  # the facts are drawn (campaign_live.html): their audience in words
    context = {"campaign": campaign, "state": state, "audience": presenters.audience_words(campaign) if facts else "",
               "zone": workspace_zone().key, "body": body or state.new_shape,
               "links": link_figures(db.session, campaign.id) if facts and live else [], **workers}
    if context["body"] and state.shape == "compose":
        context.update(preview=presenters.preview(campaign),
                       schedule_form=schedule_form or ScheduleForm(formdata=None),
                       test_form=test_form or TestSendForm(formdata=None))
    return context


def _live_parts(campaign: Campaign) -> dict:
    """What the counters say about the workers behind a live campaign (banners that come and go by themselves), and
    its cost as it accrues."""
    return {"unserved": unserved([campaign.status]), "sending_instead": sending_instead(db.session, campaign),
            "slowed": presenters.slowed_by_meta(campaign), "cost": campaign_cost(db.session, campaign)}


def counters_parts(campaign: Campaign) -> dict:
    """The counters alone (GET /campaigns/<id>/live/counters), as the page shows them."""
    return {"campaign": campaign, "state": live_state(db.session, campaign, None, utcnow()),
            "links": link_figures(db.session, campaign.id), **_live_parts(campaign)}


"""The campaign page's one poll: every part it brings (heading, actions, dates, banners, counters, the main region)
comes from one state, so none can contradict another; and how often it asks, by what changed and when."""
from __future__ import annotations

import html as markup
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests import factories
from tests.conftest import login
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.tracking.services import poll_seconds
from webapp.workspace.models import WorkspaceSettings

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

HTMX = {"HX-Request": "true", "HX-Target": "campaign-poll"}


def _poller(html: str) -> str | None:
    """The URL the page's poller asks next (None: it does not poll)."""
    found = re.search(r'<div id="campaign-poll"[^>]*?hx-get="([^"]+)"', html)
    return markup.unescape(found.group(1)) if found else None


def _every(html: str) -> int | None:
    found = re.search(r'<div id="campaign-poll"[^>]*?hx-trigger="every (\d+)s', html)
    return int(found.group(1)) if found else None


def _poll(client, url: str):
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    return response, response.get_data(as_text=True)


def _as_if(url: str, changed_ago: timedelta) -> str:
    """The poller's URL as a page that last saw a change `changed_ago` would carry it."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query["since"] = int((utcnow() - changed_ago).timestamp())
    return f"{parts.path}?{urlencode(query)}"


def _oob(html: str, element_id: str) -> str | None:
    """The out-of-band part with this id in a poll's answer, up to the next one."""
    found = re.search(rf'<[a-z]+ id="{element_id}"[^>]*hx-swap-oob="[^"]+"[^>]*>(.*?)(?=<[a-z]+ id="campaign-[a-z]+"[^>]*hx-swap-oob|\Z)',
                      html, re.S)
    return found.group(0) if found else None


def _finish(campaign: Campaign, **fields) -> None:
    campaign.status = fields.pop("status", "sent")
    campaign.completed_at = fields.pop("completed_at", utcnow())
    for name, value in fields.items():
        setattr(campaign, name, value)
    db.session.commit()


# --- What the poll answers ----------------------------------------------------------------------

def test_a_campaign_that_completes_answers_completed_with_its_dates_and_without_pause_or_cancel(staff_client, webhook):
    WorkspaceSettings.get().timezone = "America/New_York"
    campaign, rows = accepted_campaign(2, started_at=datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc))
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert ">Pause<" in page and ">Cancel campaign<" in page and _every(page) == 2

    _finish(campaign, completed_at=datetime(2026, 7, 1, 13, 1, tzinfo=timezone.utc))
    response, answer = _poll(staff_client, _poller(page))

    head = _oob(answer, "campaign-head")
    assert '<span class="badge badge-completed">Completed</span>' in head
    assert ">Pause<" not in answer and ">Cancel campaign<" not in answer and ">Resume<" not in answer
    facts = _oob(answer, "campaign-facts")
    assert "<dt>Started</dt><dd>2026-07-01 09:00</dd>" in facts and "<dt>Completed</dt><dd>2026-07-01 09:01</dd>" in facts
    assert "Completed" in _oob(answer, "campaign-counters")  # the progress line's badge agrees with the heading
    assert "Campaign status: Completed." in _oob(answer, "campaign-announcer")
    assert response.headers["HX-Trigger"] == "campaign-changed"  # the timeline and the log refresh
    assert _every(answer) == 2  # statuses pour in after the last send


def test_a_scheduled_page_turns_into_the_live_page_when_the_campaign_starts(staff_client, webhook):
    campaign = factories.campaign(status="scheduled", phones=["+15550100001"],
                                  scheduled_at=utcnow() + timedelta(seconds=30))
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert ">Send now<" in page and "Send a test" in page and _every(page) == 2  # due within a minute

    campaign.status, campaign.started_at = "sending", utcnow()
    db.session.commit()
    response, answer = _poll(staff_client, _poller(page))

    head = _oob(answer, "campaign-head")
    assert "badge-ongoing" in head and ">Pause<" in head and ">Send now<" not in head and ">Edit<" not in head
    body = _oob(answer, "campaign-body")
    assert 'id="campaign-counters"' in body and "Send a test" not in body and "Schedule" not in body
    assert 'hx-get="/campaigns/%d/live/timeline"' % campaign.id in body and 'id="recipient-log"' in body
    assert "Scheduled for" in _oob(answer, "campaign-facts") and "Started" in _oob(answer, "campaign-facts")
    assert _every(answer) == 2


def test_a_poll_that_finds_nothing_changed_brings_nothing_but_the_poller(staff_client, webhook):
    campaign, rows = accepted_campaign(2)
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    response, answer = _poll(staff_client, _poller(page))

    assert "HX-Trigger" not in response.headers and "hx-swap-oob" not in answer
    assert _poller(answer) == _poller(page)  # the same look, asked again


def test_a_webhook_on_a_finished_campaign_brings_its_counters_banners_and_quick_polling_back(staff_client, webhook):
    campaign, rows = accepted_campaign(2)
    _finish(campaign, completed_at=utcnow() - timedelta(minutes=20), updated_at=utcnow() - timedelta(minutes=20))
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert _every(page) == 60  # quiet for 20 minutes

    meta.post(staff_client, meta.statuses(meta.status(wamid(rows[0]), "delivered", T0, wa_id(rows[0]),
                                                      row_id=rows[0].id)))
    response, answer = _poll(staff_client, _poller(page))

    assert response.headers["HX-Trigger"] == "campaign-changed"
    assert re.search(r'aria-label="Delivered">\s*<div class="label">Delivered</div>\s*<div class="value">1<',
                     _oob(answer, "campaign-counters"))
    assert _oob(answer, "campaign-head") is None  # still Completed: the heading and actions stay as they are
    assert _every(answer) == 2


def test_a_reply_to_the_campaign_brings_the_inboxs_badge_up_to_date(staff_client, webhook):
    campaign, rows = accepted_campaign(2)
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(r'<span id="inbox-badge" class="nav-badge" hidden>', page)  # nothing unread yet

    meta.post(staff_client, meta.message("wamid.IN.1", wa_id(rows[0]), T0, "Is it in blue?", context=wamid(rows[0])))
    response, answer = _poll(staff_client, _poller(page))

    assert response.headers["HX-Trigger"] == "campaign-changed"
    assert re.search(r'<span id="inbox-badge" class="nav-badge" aria-label="1 unread" hx-swap-oob="true">1<', answer)


def test_a_status_is_announced_only_when_what_staff_read_changes(staff_client, webhook):
    campaign = factories.campaign(status="queued", phones=["+15550100001"])
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    campaign.status, campaign.started_at = "sending", utcnow()  # the launch is done: still "Ongoing"
    db.session.commit()

    answer = _poll(staff_client, _poller(page))[1]

    assert "badge-ongoing" in _oob(answer, "campaign-head") and _oob(answer, "campaign-announcer") is None


# --- How often it asks --------------------------------------------------------------------------

@pytest.mark.parametrize("changed_ago, every", [(timedelta(seconds=30), 2), (timedelta(minutes=3), 5),
                                                (timedelta(minutes=10), 15), (timedelta(hours=1), 60),
                                                (timedelta(hours=3), None)])
def test_a_finished_campaign_polls_quickly_after_a_change_then_backs_off_then_stops(staff_client, webhook,
                                                                                   changed_ago, every):
    campaign, rows = accepted_campaign(1)
    _finish(campaign, completed_at=utcnow() - timedelta(hours=5))
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    answer = _poll(staff_client, _as_if(_poller(page), changed_ago))[1]  # nothing changed since then

    assert _every(answer) == every
    if every is None:
        assert _poller(answer) is None and "data-poll" not in answer


def test_a_fresh_page_of_a_settled_campaign_does_not_poll(staff_client, webhook):
    campaign, rows = accepted_campaign(1)
    _finish(campaign, completed_at=utcnow() - timedelta(hours=5), updated_at=utcnow() - timedelta(hours=5))
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert _poller(page) is None and 'id="campaign-poll"' in page
    assert "Completed" in page and ">Pause<" not in page


def test_the_polling_rule_at_its_edges():
    now = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)

    def every(status, changed_ago=timedelta(0), **fields):
        return poll_seconds(Campaign(status=status, **fields), now - changed_ago, now)

    assert every("sending", timedelta(days=1)) == every("queued", timedelta(days=1)) == 2
    assert every("sent", timedelta(seconds=59)) == 2 and every("sent", timedelta(seconds=60)) == 5
    assert every("cancelled", timedelta(minutes=14, seconds=59)) == 15
    assert every("sent", timedelta(hours=1, minutes=59)) == 60 and every("sent", timedelta(hours=2)) is None
    assert every("paused", timedelta(days=3)) == 60  # someone may resume it: slow, never stopped
    assert every("sending", timedelta(hours=1), waiting_until=now + timedelta(hours=8)) == 60  # the daily limit
    assert every("draft") is None
    assert every("scheduled", scheduled_at=now + timedelta(seconds=60)) == 2
    assert every("scheduled", scheduled_at=now - timedelta(seconds=5)) == 2  # due: the tick starts it any moment
    assert every("scheduled", scheduled_at=now + timedelta(minutes=10)) == 5
    assert every("scheduled", scheduled_at=now + timedelta(days=2)) == 60


def test_a_draft_page_does_not_poll(staff_client):
    campaign = factories.campaign(status="draft", phones=["+15550100001"])
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert _poller(page) is None and 'id="campaign-poll"' in page


def test_the_poll_answers_only_a_logged_in_user_about_a_campaign_that_exists(client, staff, webhook):
    campaign, rows = accepted_campaign(1)
    assert client.get(f"/campaigns/{campaign.id}/live", headers=HTMX).status_code == 401
    login(client, staff.email)
    assert client.get("/campaigns/424242/live", headers=HTMX).status_code == 404
    assert client.get(f"/campaigns/{campaign.id}/live?since=-4", headers=HTMX).status_code == 400
    assert client.get(f"/campaigns/{campaign.id}/live", headers=HTMX).status_code == 200

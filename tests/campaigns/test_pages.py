"""The campaigns index and each campaign's page: what staff see, and the controls that fit each state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests import factories
from tests.conftest import post
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.queues import queue
from webapp.workspace.models import WorkspaceSettings

VARIABLES = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "attribute", "value": "order"}}


def _draft(name="Spring sale", sender=None, people=("+15550100001", "+15550100002")) -> Campaign:
    sender = sender or factories.sender()
    template = factories.template()
    customers = factories.contact_list(f"{name} list", [(p, "Ana", {"order": "#1"}) for p in people])
    campaign = services.save_draft(services.Draft(name, sender.id, template.id, [customers.id], variables=VARIABLES))
    db.session.commit()
    return campaign


def _reload(campaign: Campaign) -> Campaign:
    return db.session.get(Campaign, campaign.id, populate_existing=True)


def _jobs(name: str) -> list[str]:
    return [job.func_name for job in queue(name).get_jobs()]


# --- The index ---------------------------------------------------------------------------------

def test_index_lists_campaigns_newest_first_with_status_and_counts(staff_client):
    sender = factories.sender()
    older = factories.campaign(status="sent", sender=sender, name="Older", phones=["+15550100001", "+15550100002"],
                               created_at=datetime.now(timezone.utc) - timedelta(days=1))
    newer = factories.campaign(status="sending", sender=sender, name="Newer", phones=["+15550100003"])

    page = staff_client.get("/campaigns/").get_data(as_text=True)

    assert page.index("Newer") < page.index("Older")
    assert '<span class="badge badge-ongoing">Ongoing</span>' in page
    assert '<span class="badge badge-completed">Completed</span>' in page
    assert f'href="/campaigns/{older.id}"' in page and f'href="/campaigns/{newer.id}"' in page
    assert '<td class="num" data-label="Recipients">2</td>' in page  # the older one's recipients, from its counters


def test_index_filters_by_the_status_staff_read(staff_client):
    sender = factories.sender()
    factories.campaign(status="queued", sender=sender, name="Queued one")
    factories.campaign(status="sending", sender=sender, name="Sending one")
    factories.campaign(status="paused", sender=sender, name="Paused one")

    page = staff_client.get("/campaigns/?status=ongoing").get_data(as_text=True)

    assert "Queued one" in page and "Sending one" in page and "Paused one" not in page
    assert "No failed campaigns." in staff_client.get("/campaigns/?status=failed").get_data(as_text=True)


def test_index_pages_through_many_campaigns(staff_client):
    sender = factories.sender()
    for i in range(27):
        factories.campaign(status="draft", sender=sender, name=f"Campaign {i:02d}")

    first = staff_client.get("/campaigns/").get_data(as_text=True)
    second = staff_client.get("/campaigns/?page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first and "Campaign 26" in first and "Campaign 01" not in first
    assert "Campaign 01" in second and "Campaign 00" in second and "Campaign 26" not in second


def test_an_htmx_filter_gets_just_the_table_and_the_answer_varies_by_it(staff_client):
    factories.campaign(status="draft", name="Only one")

    fragment = staff_client.get("/campaigns/?status=draft", headers={"HX-Request": "true",
                                                                     "HX-Target": "campaign-table"})
    page = staff_client.get("/campaigns/?status=draft")

    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="campaign-table">')
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_empty_index_says_to_make_a_list_first(staff_client):
    page = staff_client.get("/campaigns/").get_data(as_text=True)

    assert "start by bringing your customers into one" in page
    assert 'href="/campaigns/new"' in page  # the New campaign button is always there


def test_empty_index_with_lists_but_no_templates_points_admins_to_settings(admin_client):
    factories.contact_list("Customers", ["+15550100001"])

    page = admin_client.get("/campaigns/").get_data(as_text=True)

    assert "no approved message templates" in page and 'href="/settings/templates"' in page


def test_empty_index_ready_to_go_offers_the_first_campaign(staff_client):
    factories.contact_list("Customers", ["+15550100001"])
    factories.template()
    db.session.commit()

    assert "Compose your first campaign" in staff_client.get("/campaigns/").get_data(as_text=True)


def test_the_main_navigation_shows_campaigns(staff_client):
    assert 'href="/campaigns/"' in staff_client.get("/").get_data(as_text=True)


# --- The campaign page ---------------------------------------------------------------------------

def test_a_draft_page_shows_its_facts_controls_and_preview(staff_client):
    campaign = _draft()

    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    assert "<dt>Sender</dt><dd>Test number" in page and "order_update" in page
    assert "List Spring sale list" in page
    for control in ("Edit", "Send now", "Delete", "Schedule", "Send test"):
        assert f">{control}<" in page
    assert ">Pause<" not in page and ">Resume<" not in page
    assert "Hi Ana, your order #1 is on its way." in page
    assert f"/campaigns/{campaign.id}/live/counters" not in page  # a draft has no live figures yet


def test_an_ongoing_campaign_offers_pause_and_cancel_and_the_live_part(staff_client):
    campaign = factories.campaign(status="sending", phones=["+15550100001"])

    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)

    assert ">Pause<" in page and ">Cancel campaign<" in page
    assert ">Send now<" not in page and ">Edit<" not in page and ">Delete<" not in page
    assert 'id="campaign-counters"' in page and f'hx-get="/campaigns/{campaign.id}/live?' in page


def test_the_notice_banner_says_why_a_campaign_is_paused_or_waiting(staff_client):
    WorkspaceSettings.get().timezone = "Europe/Madrid"
    campaign = factories.campaign(status="paused", notice="Meta refused the access token (error 190). Paste a new "
                                                          "token in Settings → Sender numbers, then resume.",
                                  notice_code=190)
    waiting = factories.campaign(status="sending", sender=campaign.sender, name="Waiting",
                                 notice="Today's messaging limit is reached.",
                                 waiting_until=datetime(2030, 1, 15, 9, 0, tzinfo=timezone.utc))

    paused_page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    waiting_page = staff_client.get(f"/campaigns/{waiting.id}").get_data(as_text=True)

    assert "Meta refused the access token (error 190)" in paused_page and ">Resume<" in paused_page
    assert "sending goes on at 2030-01-15 10:00 (Europe/Madrid)" in waiting_page


def test_an_unknown_campaign_is_404(staff_client):
    assert staff_client.get("/campaigns/999").status_code == 404


# --- Controls ----------------------------------------------------------------------------------

def test_send_now_queues_the_campaign_and_enqueues_its_launch(staff_client):
    campaign = _draft()

    response = post(staff_client, f"/campaigns/{campaign.id}/launch", follow_redirects=True)

    assert _reload(campaign).status == "queued"
    assert "jobs.campaigns.launch" in _jobs("default")
    page = response.get_data(as_text=True)
    assert "is on its way" in page and '<span class="badge badge-ongoing">Ongoing</span>' in page


def test_send_now_of_a_draft_whose_list_was_deleted_says_so_and_launches_nothing(staff_client):
    from webapp.contacts.models import ContactList

    campaign = _draft()
    db.session.execute(db.delete(ContactList))
    db.session.commit()

    response = post(staff_client, f"/campaigns/{campaign.id}/launch")

    assert response.status_code == 422
    assert "One of the chosen lists no longer exists." in response.get_data(as_text=True)
    assert _reload(campaign).status == "draft" and _jobs("default") == []


def test_send_now_twice_is_a_conflict(staff_client):
    campaign = _draft()
    post(staff_client, f"/campaigns/{campaign.id}/launch")

    response = post(staff_client, f"/campaigns/{campaign.id}/launch")

    assert response.status_code == 409
    assert "This campaign has already been launched." in response.get_data(as_text=True)


def test_schedule_stores_utc_from_the_workspace_time_zone(staff_client):
    WorkspaceSettings.get().timezone = "America/Santiago"
    campaign = _draft()

    response = post(staff_client, f"/campaigns/{campaign.id}/schedule", {"scheduled_at": "2030-01-15T10:00"},
                    follow_redirects=True)

    saved = _reload(campaign)
    assert saved.status == "scheduled"
    assert saved.scheduled_at == datetime(2030, 1, 15, 13, 0, tzinfo=timezone.utc)  # Santiago is UTC-3 in January
    assert "will be sent on 2030-01-15 10:00 (America/Santiago)" in response.get_data(as_text=True)


def test_schedule_in_the_past_is_refused_on_its_field(staff_client):
    campaign = _draft()

    response = post(staff_client, f"/campaigns/{campaign.id}/schedule", {"scheduled_at": "2020-01-15T10:00"})

    assert response.status_code == 422
    assert 'id="scheduled_at-error">Choose a time in the future.</p>' in response.get_data(as_text=True)
    assert _reload(campaign).status == "draft"


def test_schedule_without_a_time_is_refused_on_its_field(staff_client):
    campaign = _draft()

    response = post(staff_client, f"/campaigns/{campaign.id}/schedule", {"scheduled_at": ""})

    assert response.status_code == 422
    assert "Choose the date and time to send at." in response.get_data(as_text=True)


def test_unschedule_returns_a_scheduled_campaign_to_draft(staff_client):
    campaign = _draft()
    post(staff_client, f"/campaigns/{campaign.id}/schedule", {"scheduled_at": "2030-01-15T10:00"})

    scheduled_page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    post(staff_client, f"/campaigns/{campaign.id}/unschedule")

    assert ">Unschedule<" in scheduled_page and "Scheduled for" in scheduled_page
    saved = _reload(campaign)
    assert (saved.status, saved.scheduled_at) == ("draft", None)


def test_a_scheduled_campaign_can_still_be_edited(staff_client):
    campaign = _draft()
    post(staff_client, f"/campaigns/{campaign.id}/schedule", {"scheduled_at": "2030-01-15T10:00"})

    assert staff_client.get(f"/campaigns/{campaign.id}/edit").status_code == 200


def test_pause_and_resume_an_ongoing_campaign(staff_client):
    campaign = factories.campaign(status="sending", phones=["+15550100001"])

    paused = post(staff_client, f"/campaigns/{campaign.id}/pause", follow_redirects=True)
    assert _reload(campaign).status == "paused"
    assert "is paused" in paused.get_data(as_text=True)

    resumed = post(staff_client, f"/campaigns/{campaign.id}/resume", follow_redirects=True)
    assert _reload(campaign).status == "sending"
    assert "is sending again" in resumed.get_data(as_text=True)
    assert "jobs.campaigns.dispatch" in _jobs("dispatch")


def test_pause_of_a_draft_is_a_conflict(staff_client):
    campaign = _draft()

    response = post(staff_client, f"/campaigns/{campaign.id}/pause")

    assert response.status_code == 409
    assert "Only an ongoing campaign can be paused." in response.get_data(as_text=True)
    assert _reload(campaign).status == "draft"


def test_resume_of_a_campaign_that_is_not_paused_is_a_conflict(staff_client):
    campaign = factories.campaign(status="sending")

    response = post(staff_client, f"/campaigns/{campaign.id}/resume")

    assert response.status_code == 409
    assert "Only a paused campaign can be resumed." in response.get_data(as_text=True)


def test_cancel_stops_the_messages_not_yet_sent(staff_client):
    campaign = factories.campaign(status="paused", phones=["+15550100001", "+15550100002"])

    response = post(staff_client, f"/campaigns/{campaign.id}/cancel", follow_redirects=True)

    assert _reload(campaign).status == "cancelled"
    assert "2 messages not yet sent will not be sent" in response.get_data(as_text=True)
    statuses = db.session.scalars(select(Recipient.status).where(Recipient.campaign_id == campaign.id)).all()
    assert statuses == ["cancelled", "cancelled"]


def test_cancel_of_a_finished_campaign_is_a_conflict(staff_client):
    campaign = factories.campaign(status="sent")

    response = post(staff_client, f"/campaigns/{campaign.id}/cancel")

    assert response.status_code == 409
    assert "The campaign has already finished." in response.get_data(as_text=True)


def test_delete_a_draft(staff_client):
    campaign_id = _draft().id

    response = post(staff_client, f"/campaigns/{campaign_id}/delete", follow_redirects=True)

    assert "“Spring sale” deleted." in response.get_data(as_text=True)
    assert db.session.scalars(select(Campaign.id)).all() == []


def test_an_ongoing_campaign_cannot_be_deleted(staff_client):
    campaign = factories.campaign(status="sending")

    response = post(staff_client, f"/campaigns/{campaign.id}/delete")

    assert response.status_code == 409
    assert "cancel it instead" in response.get_data(as_text=True)
    assert _reload(campaign) is not None


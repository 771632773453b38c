"""In a real Chromium: a campaign whose body link and button link are tracked goes out through the sandbox; the
sandbox fetches the body link's preview as WhatsApp does, which counts for nothing; the customer taps the button on
the Sandbox phone, and the click, once the worker's job has counted it, appears on the campaign page, open in
another tab, without a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from jobs.campaigns import dispatcher
from jobs.clicks import count as count_queued_clicks
from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - shared fixtures
from tests.conftest import PASSWORD
from tests.processes import wait_until
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import LinkClick, TrackedLink
from webapp.extensions import db
from webapp.senders.models import Template
from webapp.senders.services import sync_templates

pytestmark = [pytest.mark.browser, pytest.mark.flow]

CUSTOMER = "+15550100050"  # the sandbox's profile delivers and reads it, with no reply


def _previews(sandbox) -> list[dict]:
    return [event for message in sandbox.messages(to=CUSTOMER) for event in message["events"]
            if event["kind"] == "link_preview"]


def test_a_tapped_button_link_shows_live_on_the_campaign_page_and_a_preview_does_not_count(
        page: Page, app, live_server, staff, sandbox, sandbox_sender):  # noqa: F811
    app.config.update(META_APP_SECRET="sandbox-app-secret", PUBLIC_URL=live_server)
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", app_url=live_server, sent_delay=0.1,
                      delivered_delay=0.2, read_delay=0.3, delay_jitter=0)
    sync_templates(sandbox_sender)  # the template's button now opens this app's /r/{{1}}
    customers = factories.contact_list("Customers", [(CUSTOMER, "Camila", {})])
    arrivals = db.session.scalar(select(Template).where(Template.name == "new_arrivals"))
    campaign = services.save_draft(services.Draft("New arrivals", sandbox_sender.id, arrivals.id, [customers.id], variables={
        "body:1": {"source": "first_name", "fallback": "friend"},
        "body:2": {"source": "constant", "value": f"{live_server}/healthz?from=text", "track": True},
        "button:0": {"source": "constant", "value": f"{live_server}/healthz?from=button", "track": True}}))
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    assert dispatcher(campaign.id).run() in ("done", "stopped")
    wait_until(lambda: _previews(sandbox), timeout=10)  # delivered: the phone fetched the body link's preview

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/campaigns/{campaign.id}")
    counters = page.get_by_role("region", name="Counters")
    expect(counters.get_by_role("group", name="Delivered")).to_contain_text("1")
    expect(counters.get_by_role("group", name="Clicked")).to_have_count(0)  # the preview fetch was no click

    phone = page.context.new_page()
    phone.goto(f"{live_server}/sandbox/phone?number={CUSTOMER.replace('+', '%2B')}")
    expect(phone.get_by_text("our new arrivals are in")).to_be_visible()
    with phone.context.expect_page() as opened:
        phone.get_by_role("link", name="See what's new").click()
    expect(opened.value.locator("body")).to_contain_text('"ok"')  # the redirect led to the button's address
    assert count_queued_clicks() == 1  # the worker's periodic job counts the click the redirect queued

    expect(counters.get_by_role("group", name="Clicked")).to_contain_text("1")  # the poll brought it, no reload
    expect(page.get_by_role("region", name="Tracked links")).to_contain_text("healthz?from=button")
    assert _previews(sandbox)[0]["status"] == 302
    links = dict(db.session.execute(select(TrackedLink.slot, TrackedLink.id)).all())
    clicks = {row.link_id: row.clicks for row in db.session.scalars(select(LinkClick))}
    assert clicks == {links["button:0"]: 1}  # the body link's preview fetch is not among them

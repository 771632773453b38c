"""In a real Chromium against the sandbox: compose a campaign, watch the preview follow the variables without a
reload, send a test to one number, then send it now and see it become Ongoing; and with real workers, schedule,
pause, resume and complete one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from tests.conftest import PASSWORD
from tests.processes import ProcessSet, wait_until
from webapp.campaigns import services
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.queues import queue
from webapp.senders.models import Template
from webapp.workspace.models import WorkspaceSettings

pytestmark = pytest.mark.browser


def _log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_compose_preview_test_send_and_send_now(page: Page, live_server, admin, sandbox, sandbox_sender):
    factories.contact_list("Customers", [("+15550100001", "Ana", {"order": "#7"}),
                                         ("+15550100002", "Ben", {"order": "#8"})])
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation before Send now
    _log_in(page, live_server, admin.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_role("button", name="Save draft").click()  # nothing filled in: the problems are summarised on top
    expect(page.get_by_role("alert").filter(has_text="Fix 1 problem")).to_be_focused()
    page.get_by_role("link", name="Campaign name: Give the campaign a name.").click()
    expect(page.get_by_label("Campaign name")).to_be_focused()
    page.get_by_label("Campaign name").fill("Autumn shipping")
    page.get_by_label("Template and language").select_option(label="order_shipped (en_US)")
    expect(page.get_by_label("Source of {{3}}")).to_be_visible()
    page.get_by_label("Customers").check()
    page.get_by_label("Source of {{1}}").select_option("name")
    page.get_by_label("Source of {{2}}").select_option("attribute")
    page.get_by_label("Attribute or text for {{2}}").fill("order")
    page.get_by_label("Source of {{3}}").select_option("constant")
    page.get_by_label("Attribute or text for {{3}}").fill("Friday")
    page.get_by_label("Attribute or text for {{3}}").press("Tab")

    preview = page.locator("#compose-preview")
    expect(preview).to_contain_text("Hi Ana, your order #7 has shipped and should arrive on Friday.")
    expect(preview).to_contain_text("Hi Ben, your order #8 has shipped")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Source of {{1}}").select_option("constant")
    page.get_by_label("Attribute or text for {{1}}").fill("dear customer")
    page.get_by_label("Attribute or text for {{1}}").press("Tab")

    expect(preview).to_contain_text("Hi dear customer, your order #7 has shipped")
    assert page.evaluate("window.stillTheSamePage") is True  # the preview changed without a reload

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Autumn shipping")).to_be_visible()
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()

    page.get_by_label("Send a test to").fill("202 555 0175")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Sent to +1 202-555-0175 — open Sandbox phone to see it.")).to_be_visible()
    assert [m["to"] for m in sandbox.messages()] == ["+12025550175"]

    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("is on its way")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Ongoing")  # the counters below say so too, once loaded
    db.session.commit()  # see what the server's requests committed
    assert db.session.scalar(select(Campaign.status).where(Campaign.name == "Autumn shipping")) == "queued"
    assert [job.func_name for job in queue("default").get_jobs()] == ["jobs.campaigns.launch"]


@pytest.mark.slow
def test_schedule_pause_resume_and_complete_with_real_workers(page: Page, app, live_server, admin, sandbox,
                                                              sandbox_sender):  # noqa: F811
    WorkspaceSettings.get().timezone = "Asia/Kolkata"  # UTC+5:30: the form's time is not the server's
    sandbox_sender.throughput = 10  # 60 recipients take six seconds: time to pause in the middle
    phones = [f"+1555011{i:04d}" for i in range(60)]
    customers = factories.contact_list("Night owls", [(phone, f"Owl {i}", {"order": f"#{i}"})
                                                      for i, phone in enumerate(phones)])
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft("Night run", sandbox_sender.id, template.id, [customers.id], variables={
        "body:1": {"source": "name"}, "body:2": {"source": "attribute", "value": "order"},
        "body:3": {"source": "constant", "value": "Monday"}}))
    db.session.commit()
    # The form takes minutes: the next whole minute at least 20 s away.
    due = (datetime.now(timezone.utc) + timedelta(seconds=80)).replace(second=0, microsecond=0)
    local = due.astimezone(ZoneInfo("Asia/Kolkata"))

    workers = ProcessSet(app)
    try:
        workers.worker("control,default")
        workers.worker("control,dispatch")
        workers.cron()
        _log_in(page, live_server, admin.email)
        page.goto(f"{live_server}/campaigns/{campaign.id}")
        page.get_by_label("Send at").fill(local.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_text(f"will be sent on {local:%Y-%m-%d %H:%M} (Asia/Kolkata)")).to_be_visible()
        expect(page.locator("h1 .badge")).to_have_text("Scheduled")
        # Time passes: the campaign falls due in 3 s, rather than at its minute (20 to 80 s away), for the tick.
        due = datetime.now(timezone.utc) + timedelta(seconds=3)
        db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(scheduled_at=due))
        db.session.commit()

        started = wait_until(lambda: sandbox.messages(limit=1), 60, interval=0.1, message="the first send",
                             processes=workers)
        assert started[0]["accepted_ts"] - due.timestamp() < 5  # within 5 s of its time
        page.reload()
        expect(page.locator("h1 .badge")).to_have_text("Ongoing")

        wait_until(lambda: len(sandbox.messages(limit=100)) >= 15, 30, message="some sends", processes=workers)
        page.get_by_role("button", name="Pause").click()
        expect(page.locator("h1 .badge")).to_have_text("Paused")
        paused_at = len(sandbox.messages(limit=100))
        assert paused_at < 60
        page.wait_for_timeout(2000)  # a paused campaign sends nothing more (what was in flight had landed)
        assert len(sandbox.messages(limit=100)) <= paused_at + 1

        page.get_by_role("button", name="Resume").click()
        expect(page.locator("h1 .badge")).to_have_text("Ongoing")
        expect(page.locator("#campaign-counters .badge")).to_have_text("Completed", timeout=60_000)
    finally:
        workers.stop()

    ledger = sandbox.messages(limit=100)
    assert sorted(m["to"] for m in ledger) == sorted(phones)  # each number once, across the pause
    assert "Hi Owl 7, your order #7 has shipped and should arrive on Monday." in \
        {m["to"]: m["text"] for m in ledger}[phones[7]]

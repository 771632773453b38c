"""In a real Chromium against the sandbox: compose a campaign, watch the preview follow the variables without a
reload, send a test to one number, then send it now and see it become Ongoing; and with real workers, schedule,
pause, resume and complete one on a page that never reloads and whose parts always agree, at desktop and phone size."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from rq import Worker
from rq.registry import StartedJobRegistry
from sqlalchemy import select, update

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from tests.conftest import PASSWORD
from tests.processes import ProcessSet, wait_until
from webapp.campaigns import services
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.queues import queue, redis_client
from webapp.senders.models import Template
from webapp.workspace.models import WorkspaceSettings

pytestmark = pytest.mark.browser


def _log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@pytest.mark.flow
def test_compose_preview_test_send_and_send_now(page: Page, live_server, admin, sandbox, sandbox_sender):
    factories.contact_list("Customers", [("+15550100001", "Ana", {"order": "#7"}),
                                         ("+15550100002", "Ben", {"order": "#8"})])
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))  # the confirmation
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
    expect(page.get_by_text("is on its way: its recipients are being prepared")).to_be_visible()
    assert asked == ["Send this campaign to its recipients now?"]  # asked once, before anything was sent
    expect(page.locator("h1 .badge")).to_have_text("Ongoing")  # the counters below say so too, once loaded
    db.session.commit()  # see what the server's requests committed
    assert db.session.scalar(select(Campaign.status).where(Campaign.name == "Autumn shipping")) == "queued"
    assert [job.func_name for job in queue("default").get_jobs()] == ["jobs.campaigns.launch"]


# What each status offers in the heading's actions, in order: primary ones first, destructive ones apart at the end.
ACTIONS = {"Draft": ["Send now", "Delete"], "Scheduled": ["Unschedule", "Send now", "Delete"],
           "Ongoing": ["Pause", "Cancel campaign"], "Paused": ["Resume", "Cancel campaign"]}
# The counters and the recipient log agree: as many status badges in the log as recipients and, once nothing is
# in flight (`settled`), as many of each status as the counter that counts it (the log shows every row: the
# campaign is smaller than a page). While messages go out the log, refreshed just after the counters, may be ahead.
COUNTERS_AND_LOG_AGREE = """(settled) => {
  const counter = (label) => {
    const value = document.querySelector(`#campaign-counters [role=group][aria-label="${label}"] .value`);
    return value ? Number(value.textContent.replace(/,/g, "")) : null;
  };
  const rows = (...statuses) => statuses.reduce(
    (sum, status) => sum + document.querySelectorAll(`#recipient-log-results .badge-${status}`).length, 0);
  const all = rows("pending", "sending", "accepted", "sent", "delivered", "read", "replied", "failed", "skipped",
                   "cancelled", "unknown");
  return counter("Recipients") === all && (!settled || (counter("Queued") === rows("pending", "sending")
    && counter("Failed") === rows("failed") && counter("Replied") === rows("replied")));
}"""


def _agree(page: Page, label: str, *, started: bool, completed: bool, timeout: float = 15_000) -> None:
    """The heading's badge, the actions, the dates, the counters and the log all say the same."""
    expect(page.locator("h1 .badge")).to_have_text(label, timeout=timeout)
    actions = page.locator("#campaign-actions")
    if label == "Completed":  # nothing to control any more; Send again to… (or Retarget) instead
        for name in ("Send now", "Pause", "Resume", "Cancel campaign"):
            expect(actions.get_by_role("button", name=name)).to_have_count(0)
    else:
        expect(actions.get_by_role("button")).to_have_text(ACTIONS[label])
    for name, happened in (("Started", started), ("Completed", completed)):
        date = page.locator("#campaign-facts dt", has_text=name).locator("xpath=following-sibling::dd[1]")
        if happened:
            expect(date).not_to_have_text("—")
        else:
            expect(date).to_have_text("—")
    if label in ("Draft", "Scheduled"):
        expect(page.get_by_role("heading", name="Send a test")).to_be_visible()
        expect(page.locator("#campaign-counters")).to_have_count(0)
        return
    expect(page.get_by_role("heading", name="Send a test")).to_have_count(0)
    expect(page.locator("#campaign-counters .badge")).to_have_text(label)
    page.wait_for_function(COUNTERS_AND_LOG_AGREE, arg=label != "Ongoing", timeout=timeout)


def _dispatching() -> bool:
    """Whether a dispatch job is queued or running (a pause ends them: they finish what is in flight first)."""
    dispatch = queue("dispatch")
    return bool(dispatch.count or StartedJobRegistry(queue=dispatch).count)


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_campaign_runs_from_schedule_to_completion_on_one_page_that_never_contradicts_itself(
        page: Page, app, live_server, admin, sandbox, sandbox_sender, viewport):  # noqa: F811
    WorkspaceSettings.get().timezone = "Asia/Kolkata"  # UTC+5:30: the form's time is not the server's
    app.config["META_APP_SECRET"] = "sandbox-app-secret"  # Meta's statuses and replies come back, signed
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.1, delivered_delay=0.2,
                      read_delay=0.3, reply_delay=0.4, delay_jitter=0.05, webhook_batch=5, webhook_batch_wait=0.1)
    sandbox_sender.throughput = 4  # 20 recipients take five seconds: time to pause in the middle
    phones = [f"+1555011{i:04d}" for i in range(20)]
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
        page.set_viewport_size(viewport)
        _log_in(page, live_server, admin.email)
        page.goto(f"{live_server}/campaigns/{campaign.id}")
        page.evaluate("window.__marker = 1")  # gone if the page ever reloads or navigates
        _agree(page, "Draft", started=False, completed=False)

        page.get_by_role("button", name="Schedule").click()  # without a time: refused, and the page says why
        expect(page.get_by_text("Choose the date and time to send at.")).to_be_visible()
        page.get_by_label("Send at").fill(local.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_text(f"will be sent on {local:%Y-%m-%d %H:%M} (Asia/Kolkata)")).to_be_visible()
        _agree(page, "Scheduled", started=False, completed=False)
        expect(page.locator("#campaign-facts")).to_contain_text(f"{local:%Y-%m-%d %H:%M} (Asia/Kolkata)")
        # Time passes: the campaign falls due in 3 s, rather than at its minute (20 to 80 s away), for the tick,
        # once the workers are up (they take seconds to start on a busy machine; the tick's precision is the point).
        wait_until(lambda: {"control", "default", "dispatch"} <= {
            name for worker in Worker.all(connection=redis_client()) for name in worker.queue_names()},
            60, message="the workers", processes=workers)
        due = datetime.now(timezone.utc) + timedelta(seconds=3)
        db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(scheduled_at=due))
        db.session.commit()

        # The scheduled page turns into the live page by itself.
        _agree(page, "Ongoing", started=True, completed=False, timeout=60_000)
        expect(page.locator("#campaign-announcer")).to_have_text("Campaign status: Ongoing.")  # for screen readers
        wait_until(lambda: sandbox.messages(limit=1), 30, message="the first send", processes=workers)
        first = min(message["accepted_ts"] for message in sandbox.messages(limit=100))
        assert first - due.timestamp() < 5  # within 5 s of its time

        wait_until(lambda: len(sandbox.messages(limit=100)) >= 5, 30, message="some sends", processes=workers)
        page.get_by_role("button", name="Pause").click()
        _agree(page, "Paused", started=True, completed=False)
        wait_until(lambda: not _dispatching(), 15, message="the dispatchers to stop", processes=workers)
        paused_at = len(sandbox.messages(limit=100))
        assert paused_at < 20
        page.get_by_role("button", name="Resume").click()
        _agree(page, "Ongoing", started=True, completed=False)
        _agree(page, "Completed", started=True, completed=True, timeout=60_000)
        expect(page.locator("#campaign-announcer")).to_have_text("Campaign status: Completed.")
        assert page.evaluate("window.__marker") == 1  # one page from schedule to completion: never reloaded
    finally:
        workers.stop()

    ledger = sandbox.messages(limit=100)
    assert sorted(m["to"] for m in ledger) == sorted(phones)  # each number once, across the pause
    assert "Hi Owl 7, your order #7 has shipped and should arrive on Monday." in \
        {m["to"]: m["text"] for m in ledger}[phones[7]]

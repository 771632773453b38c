"""In a real Chromium: the campaign page's counters climb to their final figures as signed webhooks arrive,
without a reload (and without polling while the tab is hidden), and the heading follows when the campaign finishes."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import update

from tests.conftest import PASSWORD
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.timestamps import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.flow]

ROWS = 12


# As if the staff member switched to another tab (Chromium under test never hides its page by itself).
HIDE_THE_TAB = """() => {
  window.visibility = "hidden";
  window.heldPolls = 0;
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => window.visibility});
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.id === "campaign-poll" && document.visibilityState === "hidden") window.heldPolls += 1;
  });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture
def campaign_page():
    return lambda campaign_id: f"/campaigns/{campaign_id}"


def _log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _post(live_server: str, payload: dict) -> None:
    body = meta.body_of(payload)
    response = requests.post(f"{live_server}/webhooks/meta", data=body, timeout=10,
                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta.signature(body)})
    response.raise_for_status()


def _meta_sends(app, live_server, rows, campaign_id, halfway: threading.Event, go_on: threading.Event, errors: list):
    """Meta's side, from another thread: sent and delivered for every row, then (once the test saw that)
    read for most, a reply and a failure; then the campaign finishes. `rows` are (id, wamid, wa_id)."""
    try:
        for i, (row_id, message_id, to) in enumerate(rows):
            for stage in ("sent", "delivered"):
                _post(live_server, meta.statuses(meta.status(message_id, stage, T0 + timedelta(seconds=i), to,
                                                             row_id=row_id)))
        halfway.set()
        assert go_on.wait(30)
        for i, (row_id, message_id, to) in enumerate(rows[:-1]):
            _post(live_server, meta.statuses(meta.status(message_id, "read", T0 + timedelta(minutes=1, seconds=i),
                                                         to, row_id=row_id)))
        first, last = rows[0], rows[-1]
        _post(live_server, meta.message("wamid.REPLY", first[2], T0 + timedelta(minutes=2), "Yes please",
                                        context=first[1]))
        _post(live_server, meta.statuses(meta.status(last[1], "failed", T0 + timedelta(minutes=1), last[2],
                                                     error=(131050, "Unable to deliver", ""))))
        with app.app_context():
            db.session.execute(update(Campaign).where(Campaign.id == campaign_id)
                               .values(status="sent", completed_at=utcnow()))
            db.session.commit()
    except Exception as exc:  # noqa: BLE001 - handed to the test thread, which fails with it
        errors.append(exc)
        halfway.set()


def test_counters_climb_to_the_final_figures_without_a_reload(page: Page, live_server, app, admin, webhook,
                                                             campaign_page):
    campaign, rows = accepted_campaign(ROWS)
    _log_in(page, live_server, admin.email)
    page.goto(live_server + campaign_page(campaign.id))
    page.evaluate("window.sameDocument = true")  # gone if the page ever reloads

    counter = lambda label: page.get_by_role("group", name=label, exact=True).locator(".value")  # noqa: E731
    expect(counter("Recipients")).to_have_text(str(ROWS))
    expect(counter("Delivered")).to_have_text("0")

    halfway, go_on, errors = threading.Event(), threading.Event(), []
    plain_rows = [(row.id, wamid(row), wa_id(row)) for row in rows]
    meta_thread = threading.Thread(target=_meta_sends, daemon=True,
                                   args=(app, live_server, plain_rows, campaign.id, halfway, go_on, errors))
    meta_thread.start()
    assert halfway.wait(30) and not errors, errors
    expect(counter("Delivered")).to_have_text(str(ROWS), timeout=10_000)
    expect(counter("Read")).to_have_text("0")

    # A hidden tab does not poll: Meta's reads arrive meanwhile, and show once the tab is shown again.
    page.evaluate(HIDE_THE_TAB)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/live?" in request.url else None)
    go_on.set()
    meta_thread.join(10)
    assert not errors, errors
    page.wait_for_function("() => window.heldPolls >= 2")  # the poller's clock ran on, and its requests were held
    assert polls == []
    expect(counter("Read")).to_have_text("0")
    page.evaluate("window.visibility = 'visible'; document.dispatchEvent(new Event('visibilitychange'))")

    expect(counter("Read")).to_have_text(str(ROWS - 1), timeout=10_000)
    expect(counter("Replied")).to_have_text("1", timeout=10_000)
    expect(counter("Failed")).to_have_text("1", timeout=10_000)
    expect(counter("Queued")).to_have_text("0")

    # Finished: the heading, its actions and the counters say so together.
    expect(page.locator("#campaign-counters .badge")).to_have_text("Completed", timeout=10_000)
    expect(page.locator("h1 .badge")).to_have_text("Completed")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("cell", name="Yes please")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.sameDocument") is True

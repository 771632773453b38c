"""A whole campaign, as staff live it: 200 recipients sent by real workers through the sandbox, Meta's
signed webhooks reaching the app, and the campaign page climbing to exactly what the sandbox's
deterministic profile decided for each number."""
from __future__ import annotations

from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.processes import ProcessSet
from webapp.campaigns import services
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.sandbox.profile import plan_for
from webapp.senders.models import Template

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.flow]

PHONES = [f"+1555010{i:04d}" for i in range(200)]  # the last two digits cover the whole profile table twice
VARIABLES = {"header": {"source": "constant", "value": "Winter"},
             "body:first_name": {"source": "name", "fallback": "there"},
             "body:discount": {"source": "attribute", "value": "discount", "fallback": "10%"},
             "body:end_date": {"source": "constant", "value": "Sunday"}}
DELIVERED = {"delivered", "read", "reply", "button", "stop", "reply_no_context"}
READ = DELIVERED - {"delivered"}
FAILED = {"failed_131026", "failed_131049", "failed_131050"}


def _expected():
    plans = {phone: plan_for(phone, 0, marketing=True) for phone in PHONES}
    outcomes = Counter(plan.outcome.value for plan in plans.values())
    counters = {
        "Recipients": 200, "Accepted": 200, "Queued": 0, "Skipped": 0,
        "Sent": 200 - sum(n for o, n in outcomes.items() if o in FAILED),
        "Delivered": sum(n for o, n in outcomes.items() if o in DELIVERED),
        "Read": sum(n for o, n in outcomes.items() if o in READ),
        "Replied": sum(1 for plan in plans.values() if plan.replied),
        "Failed": sum(n for o, n in outcomes.items() if o in FAILED),
    }
    return plans, counters


def _final_status(plan) -> str:
    if plan.error_code:
        return "failed"
    return "replied" if plan.replied else plan.statuses[-1]


def test_a_200_recipient_campaign_reaches_exactly_what_the_sandbox_decided(page: Page, app, admin, live_server,
                                                                          sandbox, sandbox_sender):  # noqa: F811
    app.config["META_APP_SECRET"] = "sandbox-app-secret"
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.2, delivered_delay=0.4,
                      read_delay=0.6, reply_delay=0.8, delay_jitter=0.2, webhook_shuffle=0.3,
                      webhook_duplicates=0.1, webhook_batch=5)
    customers = factories.contact_list("Winter customers", [
        (phone, f"Customer {i}", {"discount": "25%"} if i % 2 else {}) for i, phone in enumerate(PHONES)])
    template = db.session.scalar(select(Template).where(Template.name == "seasonal_promo", Template.language == "en"))
    campaign = services.save_draft(services.Draft("Winter sale", sandbox_sender.id, template.id, [customers.id],
                                                  variables=VARIABLES))
    db.session.commit()
    plans, counters = _expected()

    workers = ProcessSet(app)
    try:
        workers.worker()
        workers.worker()
        workers.cron()
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_server}/campaigns/{campaign.id}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Send now").click()
        expect(page.get_by_text("is on its way")).to_be_visible()
        page.evaluate("window.sameDocument = true")  # from here on, only htmx fragments change

        counter = lambda label: page.get_by_role("group", name=label, exact=True).locator(".value")  # noqa: E731
        expect(page.locator("#campaign-counters .badge")).to_have_text("Completed", timeout=60_000)
        # Statuses and replies go on arriving after the last send: the page keeps up without a reload.
        for label, value in counters.items():
            expect(counter(label)).to_have_text(f"{value:,}", timeout=30_000)
    finally:
        workers.stop()

    ledger = sandbox.messages(limit=1000)
    assert sorted(m["to"] for m in ledger) == sorted(PHONES)  # each number exactly once
    texts = {m["to"]: m["text"] for m in ledger}
    assert "Our Winter sale starts now" in texts[PHONES[7]]
    assert "Hi Customer 7, take 25% off everything in store until Sunday." in texts[PHONES[7]]
    assert "Hi Customer 8, take 10% off" in texts[PHONES[8]]

    db.session.commit()
    rows = {row.phone: row for row in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id))}
    assert {phone: row.status for phone, row in rows.items()} == {p: _final_status(plan) for p, plan in plans.items()}
    assert {p: r.error_code for p, r in rows.items() if r.error_code} == \
        {p: plan.error_code for p, plan in plans.items() if plan.error_code}
    opted_out = set(db.session.scalars(select(Contact.phone).where(Contact.opted_out_at.is_not(None))))
    assert opted_out == {p for p, plan in plans.items() if plan.opts_out or plan.reply == "stop"}
    assert page.evaluate("window.sameDocument") is True  # the counters climbed without a reload


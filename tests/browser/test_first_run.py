"""The README's "A first campaign, step by step", followed literally in a real Chromium, with a real worker and the
sandbox calling the webhook back: set up, find the sandbox number and its templates, import the example file,
compose, send a test and see it on the Sandbox phone, send, watch the counters climb and find the answers in the
Inbox. When a step of the README is wrong or vague, the README is what changes."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.campaigns.conftest import sandbox, sending_sandbox  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.processes import ProcessSet
from tests.sandbox.harness import APP_SECRET, TOKEN
from webapp.extensions import db
from webapp.senders.services import provision_sandbox, sync_templates

pytestmark = [pytest.mark.browser, pytest.mark.flow]


def _started_like_make_run(app, live_server: str, sandbox) -> None:  # noqa: F811
    """What `make run` has done before anyone opens the page (webapp/launcher.py): the sandbox number, its
    templates, and the sandbox's webhooks pointed at this app."""
    sender = provision_sandbox()
    sender.access_token = TOKEN
    db.session.commit()
    sync_templates(sender)
    db.session.commit()
    app.config["META_APP_SECRET"] = APP_SECRET
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.1, delivered_delay=0.2,
                      read_delay=0.3, reply_delay=0.4, delay_jitter=0.1)


def test_the_readmes_first_campaign_step_by_step(page: Page, app, live_server, sandbox):  # noqa: F811
    _started_like_make_run(app, live_server, sandbox)
    workers = ProcessSet(app)
    try:
        workers.worker()
        nav = page.get_by_role("navigation", name="Main")

        # 1. Set up: business name, the first admin's email and password.
        page.goto(live_server)
        expect(page.get_by_role("heading", name="Welcome to Broadcaster")).to_be_visible()
        page.get_by_label("Business name").fill("Panadería Sol")
        # The workspace's time zone starts as the browser's own (static/js/app.js).
        expect(page.get_by_label("Time zone")).to_have_value(
            page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
        page.get_by_label("Your name").fill("Ana")
        page.get_by_label("Email").fill("ana@example.com")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat password").fill(PASSWORD)
        page.get_by_role("button", name="Create administrator").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page.get_by_text("Panadería Sol")).to_be_visible()

        # 2. Sender: the sandbox number is configured, its demo templates synced.
        nav.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Sender numbers").click()
        expect(page.get_by_role("cell", name="Sandbox (test number) Sandbox")).to_be_visible()
        page.get_by_role("link", name="Templates").click()
        expect(page.get_by_role("cell", name="order_shipped")).to_be_visible()

        # 3. Customers: Lists → Try it with an example file; watch the import; read what was rejected and why.
        nav.get_by_role("link", name="Lists").click()
        page.get_by_role("button", name="Try it with an example file").click()
        expect(page.get_by_role("heading", name="Import done")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name="Rows not taken")).to_be_visible()
        page.get_by_role("link", name="Open the list").click()
        expect(page.get_by_role("heading", name="Example customers")).to_be_visible()

        # 4. Compose: Campaigns → New campaign: template, list, a source for each variable, the live preview.
        nav.get_by_role("link", name="Campaigns").click()
        page.get_by_role("link", name="New campaign").click()
        page.get_by_label("Campaign name").fill("Spring orders")
        page.get_by_label("Template and language").select_option(label="order_shipped (en_US)")
        page.get_by_label("Example customers").check()
        page.get_by_label("Source of {{1}}").select_option("name")
        page.get_by_label("Source of {{2}}").select_option("constant")
        page.get_by_label("Attribute or text for {{2}}").fill("#1042")
        page.get_by_label("Source of {{3}}").select_option("constant")
        page.get_by_label("Attribute or text for {{3}}").fill("Friday")
        page.get_by_label("Attribute or text for {{3}}").press("Tab")
        message = re.compile(r"Hi [A-Z][\w ]+, your order #1042 has shipped and should arrive on Friday\.")
        expect(page.locator("#compose-preview")).to_contain_text(message)
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("heading", name="Spring orders")).to_be_visible()

        # 5. Test: "Send test" sends it to one number now; Sandbox phone shows it as the customer reads it.
        page.get_by_label("Send a test to").fill("+1 202 555 0175")
        page.get_by_role("button", name="Send test").click()
        expect(page.locator(".flashes")).to_contain_text("Sent to +1 202-555-0175 — open Sandbox phone to see it")
        nav.get_by_role("link", name="Sandbox phone").click()
        page.get_by_role("link", name="+12025550175").click()
        expect(page.get_by_role("region", name="Conversation")).to_contain_text(message)

        # 6. Send now.
        nav.get_by_role("link", name="Campaigns").click()
        page.get_by_role("link", name="Spring orders").click()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Send now").click()
        expect(page.get_by_text("is on its way: its recipients are being prepared")).to_be_visible()

        # 7. Watch: the counters fill in live from Meta's webhooks, without a reload.
        page.evaluate("window.sameDocument = true")
        for label in ("Sent", "Delivered", "Read", "Replied", "Failed"):
            expect(page.get_by_role("group", name=label, exact=True)).to_have_text(re.compile("[1-9]"), timeout=30_000)
        assert page.evaluate("window.sameDocument") is True

        # 8. Answer: the example's customers have answered; the Inbox lists them, a STOP among them.
        nav.get_by_role("link", name="Inbox").click()
        expect(nav.locator("#inbox-badge")).to_have_text(re.compile("[1-9]"))
        expect(page.locator("#conversation-list")).to_contain_text("STOP")
    finally:
        workers.stop()

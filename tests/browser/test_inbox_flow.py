"""The inbox as staff and a customer live it, in a real Chromium with a real worker and the sandbox calling the
webhook back: a campaign goes out, the customer answers on the Sandbox phone with a question and a photo, staff see
the photo arrive in the open conversation without a reload, answer with a text and a PDF, the customer sees both,
the answers are read; a day later (both clocks moved) only a template can be sent."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - fixtures
from tests.conftest import PASSWORD
from tests.processes import ProcessSet, wait_until
from tests.sandbox.harness import APP_SECRET
from webapp.campaigns import services
from webapp.extensions import db
from webapp.inbox.models import Conversation
from webapp.senders.models import Template
from webapp.timestamps import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.flow]

CUSTOMER = "+56961234550"  # the sandbox's deterministic profile: reads what it gets, never answers by itself
JPEG = b"\xff\xd8\xff\xe0" + b"the blue one" * 200
PDF = b"%PDF-1.4\n% spring prices\n" + b"0" * 2000
DAY = 24 * 3600


def test_a_customer_asks_with_a_photo_and_staff_answer_with_text_and_a_pdf_until_the_window_closes(
        page: Page, app, admin, live_server, sandbox, sandbox_sender, tmp_path):  # noqa: F811
    app.config["META_APP_SECRET"] = APP_SECRET
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.1, delivered_delay=0.2,
                      read_delay=0.3, reply_delay=60, delay_jitter=0, webhook_batch_wait=0.05)
    customers = factories.contact_list("Regulars", [(CUSTOMER, "Ana", {})])
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft("Spring restock", sandbox_sender.id, template.id, [customers.id],
                                                  variables={"body:1": {"source": "name"},
                                                             "body:2": {"source": "constant", "value": "#7"},
                                                             "body:3": {"source": "constant", "value": "Friday"}}))
    services.launch(campaign)
    db.session.commit()
    (tmp_path / "blue.jpg").write_bytes(JPEG)
    (tmp_path / "prices.pdf").write_bytes(PDF)

    workers = ProcessSet(app)
    try:
        workers.worker("control,dispatch,default")
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        # Staff keep the Inbox open; it is empty yet.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
        expect(page.get_by_text("No conversations here yet")).to_be_visible()
        page.evaluate("window.sameDocument = true")

        # The customer's phone (the app's Sandbox phone page, in a second tab): the campaign arrives.
        wait_until(lambda: sandbox.messages(to=CUSTOMER), 30, message="the campaign's send", processes=workers)
        phone = page.context.new_page()
        phone.goto(f"{live_server}/sandbox/phone?number=%2B{CUSTOMER[1:]}")
        conversation_on_phone = phone.get_by_role("region", name="Conversation")
        expect(conversation_on_phone).to_contain_text("Hi Ana, your order #7 has shipped")
        phone.get_by_label("Reply as this customer").fill("Is the blue one still in stock?")
        phone.get_by_role("button", name="Send reply").click()
        expect(phone.locator(".flashes")).to_contain_text("It reaches the app as a webhook")

        # The question appears in the open Inbox by itself, the navigation's badge counting it; staff open it.
        page.bring_to_front()
        expect(page.get_by_role("link", name="Ana")).to_be_visible(timeout=15_000)
        expect(page.locator("#inbox-badge")).to_have_text("1")
        assert page.evaluate("window.sameDocument") is True
        page.get_by_role("link", name="Ana").click()
        messages = page.locator("#conversation-messages")
        expect(messages).to_contain_text("Is the blue one still in stock?")
        expect(messages).to_contain_text("Hi Ana, your order #7 has shipped")  # the campaign, as she read it
        page.evaluate("window.sameDocument = true")

        # The customer sends a photo: it appears in the open conversation, downloaded by the worker, no reload.
        phone.get_by_label("Send a photo or a document as this customer").set_input_files(tmp_path / "blue.jpg")
        phone.get_by_label("Caption").fill("This one?")
        phone.get_by_role("button", name="Send file").click()
        expect(messages.get_by_role("img", name="Image from the customer")).to_be_visible(timeout=15_000)
        expect(messages).to_contain_text("This one?")
        assert page.evaluate("window.sameDocument") is True

        # Staff answer with a text, then the PDF (uploaded through the composer).
        page.get_by_label("Message").fill("Yes, *in stock*: here are the prices")
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_label("Message").fill("Spring prices")
        page.get_by_label("Attach a file").set_input_files(tmp_path / "prices.pdf")
        page.get_by_role("button", name="Send", exact=True).click()
        answers = page.locator("#conversation-messages .message-out").filter(has_text="answered")
        expect(answers).to_have_count(2)
        expect(answers.nth(1)).to_contain_text("[Document: prices.pdf]")
        # Their statuses climb to read by Meta's webhooks, on the page as it polls.
        expect(answers.locator(".badge")).to_have_text(["read", "read"], timeout=15_000)

        # The customer sees both: the text as WhatsApp formats it, the PDF to download, each read.
        phone.reload()
        expect(conversation_on_phone.locator("strong", has_text="in stock")).to_be_visible()
        expect(conversation_on_phone.get_by_role("link", name="prices.pdf")).to_be_visible()
        expect(conversation_on_phone.locator(".bubble:not(.bubble-in) .footer").last).to_contain_text("read")
        [document] = [m for m in sandbox.messages() if m["type"] == "document"]
        assert document["media"]["filename"] == "prices.pdf" and document["text"] == "Spring prices"

        # A day and a minute later, by both clocks: the sandbox would refuse free-form (131047), and the
        # composer offers only a template.
        sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": DAY + 60})
        window = sandbox.control("GET", "service-window", params={"number": CUSTOMER})
        assert window["open"] is False
        db.session.execute(update(Conversation).values(last_customer_message_at=utcnow() - timedelta(seconds=DAY + 60)))
        db.session.commit()
        page.reload()
        expect(page.get_by_text("WhatsApp only lets an approved template reach this customer now")).to_be_visible()
        expect(page.get_by_role("button", name="Send the template")).to_be_visible()
        expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
        expect(page.get_by_label("Message")).to_have_count(0)
    finally:
        workers.stop()

"""Done when (issue #17): on an imported file, build the segment "city is Lyon, tag vip, not messaged in 7 days" in
the builder, see its count move as conditions change, send a campaign to it, and the sandbox receives exactly the
expected numbers."""
from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from tests.conftest import PASSWORD
from tests.processes import ProcessSet, wait_until
from webapp.campaigns.models import Recipient
from webapp.contacts import imports, tags
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.flow]

# (phone, name, city, vip): Lyon ×5 of whom 4 vip; one of those messaged 2 days ago; Paris ×3, one vip.
PEOPLE = [("+33612345601", "Ana", "Lyon", True), ("+33612345602", "Bea", "Lyon", True),
          ("+33612345603", "Cid", "lyon", True), ("+33612345604", "Dan", "Lyon", True),
          ("+33612345605", "Eve", "Lyon", False), ("+33612345606", "Fay", "Paris", True),
          ("+33612345607", "Gus", "Paris", False), ("+33612345608", "Hal", "Paris", False)]
MESSAGED = "+33612345604"
EXPECTED = ["+33612345601", "+33612345602", "+33612345603"]


def _imported(folder, sender) -> None:
    path = folder / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "name", "city"])
        writer.writerows((phone, name, city) for phone, name, city, _ in PEOPLE)
    imports.import_file(db.session, path, list_name="Customers", country="FR", phone_column=None,
                        update_existing=True)
    tags.add(db.session, select(Contact.id).where(Contact.phone.in_([p for p, *_, vip in PEOPLE if vip])), ["vip"])
    earlier = factories.campaign("sent", phones=[MESSAGED], name="Last week", sender=sender)
    db.session.execute(update(Recipient).where(Recipient.campaign_id == earlier.id).values(
        status="delivered", reached=3, accepted_at=utcnow() - timedelta(days=2),
        contact_id=db.session.scalar(select(Contact.id).where(Contact.phone == MESSAGED))))
    db.session.commit()


def settled(page) -> None:
    """htmx has swapped the new row in and wired it: a change made sooner (a test is quicker than a hand) is lost."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_build_a_segment_watch_its_count_and_send_a_campaign_to_it(page: Page, app, live_server, admin, tmp_path,
                                                                   sandbox, sandbox_sender):  # noqa: F811
    _imported(tmp_path, sandbox_sender)
    processes = ProcessSet(app)
    try:
        processes.worker("control,default")
        processes.worker("control,dispatch")
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
        page.get_by_role("link", name="Build a segment").click()

        total = page.locator("#segment-total")
        page.get_by_label("Segment name").fill("Lyon VIPs, resting")
        page.get_by_label("Condition 1: attribute").select_option(label="city (text)")
        expect(total).to_contain_text("give a value for “city”")  # the row was drawn again for a text attribute
        page.get_by_label("Condition 1: value").fill("Lyon")
        expect(total).to_have_text("5 contacts")
        page.get_by_role("button", name="Add condition").click()
        settled(page)
        page.get_by_label("Condition 2: on").select_option("tag")
        expect(page.get_by_label("Condition 2: comparison")).to_have_value("has")
        page.get_by_label("Condition 2: value").fill("vip")
        expect(total).to_have_text("4 contacts")
        page.get_by_role("button", name="Add condition").click()
        settled(page)
        page.get_by_label("Condition 3: on").select_option("received")
        expect(page.get_by_label("Condition 3: comparison")).to_have_value("within_days")
        page.get_by_label("Condition 3: comparison").select_option("not_within_days")
        page.get_by_label("Condition 3: value").fill("7")
        expect(total).to_have_text("3 contacts")
        expect(page.get_by_role("table", name="First matching contacts")).not_to_contain_text("Dan")
        page.get_by_role("button", name="Save segment").click()
        expect(page.get_by_role("cell", name="city is “Lyon” and has tag “vip” and received no campaign in the "
                                              "last 7 days")).to_be_visible()
        expect(page.get_by_role("row", name="Lyon VIPs, resting").get_by_role("cell").nth(2)).to_have_text("3")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
        page.get_by_role("link", name="New campaign").click()
        page.get_by_label("Campaign name").fill("Lyon evening")
        page.get_by_label("Template and language").select_option(label="order_shipped (en_US)")
        page.get_by_label("Contacts of a segment").check()
        page.get_by_label("Segment", exact=True).select_option(label="Lyon VIPs, resting")
        page.get_by_label("Source of {{1}}").select_option("name")
        for slot in ("2", "3"):
            page.get_by_label(f"Source of {{{{{slot}}}}}").select_option("constant")
            page.get_by_label(f"Attribute or text for {{{{{slot}}}}}").fill("soon")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#campaign-facts")).to_contain_text(
            "Segment “Lyon VIPs, resting”: city is “Lyon” and has tag “vip” and received no campaign in the last "
            "7 days.")
        page.on("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Send now").click()
        wait_until(lambda: len(sandbox.messages(limit=20)) >= len(EXPECTED), 25, message="the sends",
                   processes=processes)
    finally:
        processes.stop()
    assert sorted(message["to"] for message in sandbox.messages(limit=20)) == EXPECTED

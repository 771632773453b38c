"""A 200-recipient marketing campaign sent to the real sandbox, whose signed webhooks come back to the app over
HTTP: the campaign page's counters, every row of the log, and the contacts' opt-outs end as the sandbox's
deterministic profile predicts — failures with their codes, replies with and without context, STOPs."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from jobs.campaigns import dispatcher
from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401 - shared fixtures
from tests.processes import wait_until
from webapp.campaigns import services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.sandbox.profile import plan_for
from webapp.senders.models import Template

pytestmark = [pytest.mark.slow, pytest.mark.flow, pytest.mark.only_on("postgresql")]  # SQLite: the browser's whole campaign

SIZE = 200  # two numbers for every key of the profile's table
VARIABLES = {"header": {"source": "constant", "value": "Spring"},
             "body:first_name": {"source": "name", "fallback": "friend"},
             "body:discount": {"source": "constant", "value": "20%"},
             "body:end_date": {"source": "constant", "value": "Sunday"}}
ROW_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read"}  # any reply makes the row `replied`


def _launch(sender):
    people = [(f"+1555000{i:04d}", f"Customer {i}", {}) for i in range(SIZE)]
    customers = factories.contact_list("Spring customers", people)
    promo = db.session.scalar(select(Template).where(Template.name == "seasonal_promo", Template.language == "en"))
    campaign = services.save_draft(services.Draft("Spring promo", sender.id, promo.id, [customers.id],
                                                  variables=VARIABLES))
    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    return campaign


def _predicted() -> tuple[dict[str, tuple[str, int | None]], set[str]]:
    """(status, error code) per number, and the numbers that end opted out, from the profile alone."""
    rows, opted_out = {}, set()
    for i in range(SIZE):
        phone = f"+1555000{i:04d}"
        plan = plan_for(phone, marketing=True)
        if plan.error_code:
            rows[phone] = ("failed", plan.error_code)
        else:
            rows[phone] = ("replied" if plan.replied else ROW_STATUS[plan.statuses[-1]], None)
        if plan.opts_out or plan.reply == "stop":
            opted_out.add(phone)
    return rows, opted_out


def _counters(client, campaign_id) -> dict[str, int]:
    html = client.get(f"/campaigns/{campaign_id}/live/counters").get_data(as_text=True)
    return {label.lower(): int(value.replace(",", "")) for label, value in re.findall(
        r'<div class="label">(\w+)</div>\s*<div class="value">([\d,]+)</div>', html)}


def test_counters_rows_and_opt_outs_match_the_sandbox_profile(app, sandbox, sandbox_sender, live_server,  # noqa: F811
                                                              staff_client):
    app.config["META_APP_SECRET"] = "sandbox-app-secret"
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.2, delivered_delay=0.4,
                      read_delay=0.6, reply_delay=0.8, delay_jitter=0.1)
    campaign = _launch(sandbox_sender)
    for _ in range(30):
        if dispatcher(campaign.id).run() in ("done", "stopped"):
            break

    rows, opted_out = _predicted()
    statuses = Counter(status for status, _ in rows.values())
    reached = lambda *names: sum(statuses[name] for name in names)  # noqa: E731
    expected = {"recipients": SIZE, "queued": 0, "skipped": 0, "failed": statuses["failed"],
                # the API accepted every message; Meta sent all but those it failed (a failure is never sent)
                "accepted": SIZE, "sent": SIZE - statuses["failed"],
                "delivered": reached("delivered", "read", "replied"), "read": reached("read", "replied"),
                "replied": statuses["replied"]}
    assert (expected["failed"], expected["delivered"], expected["read"], expected["replied"]) == (20, 160, 120, 60)
    try:
        wait_until(lambda: _counters(staff_client, campaign.id) == expected, 60, interval=0.5,
                   message="the counters to reach the profile's figures")
    except AssertionError:
        pytest.fail(f"counters {_counters(staff_client, campaign.id)} != predicted {expected}")

    db.session.expire_all()
    found = {row.phone: (row.status, row.error_code)
             for row in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id))}
    assert found == rows
    out = set(db.session.scalars(select(Contact.phone).where(Contact.opted_out_at.is_not(None))))
    assert out == opted_out and len(out) == 14
    export = staff_client.get(f"/campaigns/{campaign.id}/log.csv?status=failed", buffered=True).get_data(as_text=True)
    assert export.count("131049") == 6 and export.count("131050") == 4 and export.count("131026") == 10

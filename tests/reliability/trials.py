"""A trial's campaign, and what every trial must show once its fault has passed (issue #14): the campaign
reached its final state with no operator action, no number got two messages, no one-second window got more
requests than the rate (refused ones included), and every row is final with the outcome the sandbox recorded."""
from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from tests import factories
from tests.processes import ProcessSet, wait_until
from tests.sandbox.harness import final_rows
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.senders.models import Template

SIZE = 1000
FINISHED = ("sent", "partially_sent", "failed")
VARIABLES = {"body:1": {"source": "name", "fallback": "there"}, "body:2": {"source": "constant", "value": "#1"},
             "body:3": {"source": "constant", "value": "Friday"}}


def launch(sender, prefix: str, size: int = SIZE) -> int:
    """A campaign of order_shipped to `size` new contacts numbered from `prefix`; returns its id."""
    people = [(f"{prefix}{i:04d}", f"Customer {i}", {}) for i in range(size)]
    customers = factories.contact_list(f"Customers {prefix}", people)
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft(f"Trial {prefix}", sender.id, template.id, [customers.id],
                                                  variables=VARIABLES))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    return campaign.id


def accepted(sandbox) -> int:
    return sandbox.stats()["accepted"]


def _status(campaign_id: int) -> str:
    db.session.commit()
    return db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


def check(sandbox, campaign_id: int, group: ProcessSet, rate: int, size: int = SIZE) -> None:
    wait_until(lambda: _status(campaign_id) in FINISHED, 60, message="the campaign to finish", processes=group)
    ledger = sandbox.messages(limit=10 * size)
    assert len(ledger) == size
    assert [to for to, n in Counter(m["to"] for m in ledger).items() if n > 1] == []
    busiest = sandbox.stats()["busiest_window"]
    assert max(w["requests"] for w in busiest.values()) <= rate, busiest
    quiet_from = max(m["accepted_ts"] for m in ledger) + 1.5  # the last message's events have been played
    differences: list = []

    def settled() -> bool:
        if time.time() < quiet_from or sandbox.stats()["webhooks"]["pending"]:
            return False
        expected = final_rows(sandbox.messages(limit=10 * size))
        db.session.commit()
        rows = dict(((phone, (status, code)) for phone, status, code in db.session.execute(
            select(Recipient.phone, Recipient.status, Recipient.error_code)
            .where(Recipient.campaign_id == campaign_id))))
        differences[:] = [(phone, rows.get(phone), wanted) for phone, wanted in expected.items()
                          if rows.get(phone) != wanted]
        return not differences and len(rows) == len(expected)

    try:
        wait_until(settled, 30, interval=0.5, message="every row to be final")
    except AssertionError:
        raise AssertionError(f"{len(differences)} rows differ from the sandbox's ledger, e.g. {differences[:5]}")

"""Fault trials against real processes (workers, RQ's cron, the sandbox over HTTP, the app's webhook endpoint),
short: 1,000 recipients at a high sandbox rate, each trial ≤ ~15 s, on SQLite and PostgreSQL (the `app` fixture's
parameter). Each ends with the same checks (`assert_completed_and_exact`)."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from tests import factories
from tests.processes import ProcessSet
from tests.sandbox.harness import PHONE_NUMBER_ID, SandboxProcess
from webapp.campaigns import services
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.senders.models import Template

RATE = 250  # the sandbox's and the sender's messages per second: 1,000 recipients in about 4 s
FINAL_CAMPAIGN = ("sent", "partially_sent", "failed")
NOT_FINAL_ROW = ("pending", "sending", "unknown")


@pytest.fixture(scope="session")
def reliability_sandbox():
    sandbox = SandboxProcess("--latency-ms", "30", "--jitter-ms", "10", "--rate", str(RATE), "--pair-interval", "0")
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(app, reliability_sandbox, live_server):
    """The sandbox, reset, calling the app's real webhook endpoint back with signed statuses."""
    reliability_sandbox.reset()
    app.config.update(SANDBOX_ENABLED=True, SANDBOX_URL=reliability_sandbox.base_url,
                      META_APP_SECRET="sandbox-app-secret")
    reliability_sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.2, delivered_delay=0.4,
                                  read_delay=0.6, reply_delay=0.8, delay_jitter=0.1, webhook_batch=200,
                                  webhook_batch_wait=0.2)  # as Meta batches them: a few POSTs a second
    from webapp.senders.services import _client, sync_templates

    _client.cache_clear()
    sender = factories.sender(is_sandbox=True, throughput=RATE)
    sync_templates(sender)
    db.session.commit()
    reliability_sandbox.sender = sender
    return reliability_sandbox


@pytest.fixture
def processes(app, sandbox):
    started: list[ProcessSet] = []

    def start(**settings) -> ProcessSet:
        group = ProcessSet(app, **settings)
        started.append(group)
        return group

    yield start
    for group in started:
        group.stop()


def campaign_of(sender, size: int = 1000, prefix: str = "+1555070") -> Campaign:
    """A launched campaign of `size` new contacts."""
    customers = factories.contact_list(f"Trial {prefix}", [(f"{prefix}{i:04d}", f"Customer {i}", {})
                                                          for i in range(size)])
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft(f"Trial {prefix}", sender.id, template.id, [customers.id],
                                                  variables={"body:1": {"source": "name", "fallback": "there"},
                                                             "body:2": {"source": "constant", "value": "#1"},
                                                             "body:3": {"source": "constant", "value": "Friday"}}))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    return campaign


def finished(sandbox, campaign_id: int) -> bool:
    """The campaign and every row reached their final state, and every failure the sandbox decided was told."""
    db.session.commit()
    status = db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    waiting = db.session.scalar(select(db.func.count()).where(Recipient.campaign_id == campaign_id,
                                                              Recipient.status.in_(NOT_FINAL_ROW)))
    failed = db.session.scalar(select(db.func.count()).where(Recipient.campaign_id == campaign_id,
                                                             Recipient.status == "failed"))
    meant = sum(m["outcome"].startswith("failed_") for m in sandbox.messages(limit=100_000))
    return status in FINAL_CAMPAIGN and not waiting and failed >= meant


def assert_completed_and_exact(sandbox, campaign_id: int) -> None:
    """Nothing lost, nothing twice, the rate kept, and the errors shown are the ones Meta (the sandbox) gave."""
    db.session.commit()
    ledger = sandbox.messages(limit=100_000)
    assert [phone for phone, n in Counter(m["to"] for m in ledger).items() if n > 1] == []
    rows = {row.phone: row for row in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id))}
    assert [phone for phone, row in rows.items() if row.status in NOT_FINAL_ROW] == []
    assert {m["to"] for m in ledger} == set(rows)
    stats = sandbox.stats()
    assert stats["rate_limited"] == 0
    assert stats["busiest_window"][PHONE_NUMBER_ID]["requests"] <= RATE
    by_phone = {m["to"]: m["outcome"] for m in ledger}
    shown = {phone: f"failed_{row.error_code}" for phone, row in rows.items() if row.status == "failed"}
    meant = {phone: outcome for phone, outcome in by_phone.items() if outcome.startswith("failed_")}
    assert {phone: (shown.get(phone), meant.get(phone), rows[phone].status)
            for phone in shown.keys() | meant.keys() if shown.get(phone) != meant.get(phone)} == {}
    assert counts(db.session, campaign_id) == recount(db.session, campaign_id)

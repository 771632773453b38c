"""Sending against the sandbox: every number once, at the rate, with Meta's errors handled by code."""
from __future__ import annotations

from tests.campaigns.sending import launch, rows_by_phone, send_all
from webapp.campaigns.lifecycle import counts, recount
from webapp.extensions import db


def test_every_number_gets_its_own_message_exactly_once(app, sandbox, sandbox_sender):
    people = [(f"+1555010{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(120)]
    campaign = send_all(launch(sandbox_sender, people).id)

    assert campaign.status == "sent"
    ledger = sandbox.messages(limit=1000)
    assert sorted(m["to"] for m in ledger) == sorted(p[0] for p in people)
    by_phone = {m["to"]: m for m in ledger}
    assert "Hi Customer 7, your order #7 has shipped" in by_phone["+15550100007"]["text"]
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    assert counts(db.session, campaign.id)["sent"] == 120
    assert sandbox.stats()["rate_limited"] == 0


def test_missing_variables_and_opted_out_contacts_are_skipped_with_a_reason(app, sandbox, sandbox_sender):
    people = [("+15550200001", "Ana", {"order": "#1"}), ("+15550200002", "Ben", {}),
              ("+15550200003", "Cy", {"order": "#3"})]
    campaign = send_all(launch(sandbox_sender, people, opted_out=["+15550200003"]).id)
    rows = rows_by_phone(campaign.id)
    assert rows["+15550200001"].status == "sent"
    assert rows["+15550200002"].status == "skipped"
    assert "Missing {{2}}" in rows["+15550200002"].skip_reason
    assert (rows["+15550200003"].status, rows["+15550200003"].skip_reason) == ("skipped", "Opted out")
    assert [m["to"] for m in sandbox.messages()] == ["+15550200001"]

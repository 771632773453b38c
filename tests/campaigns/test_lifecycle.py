"""Recipient rows move only forward, whatever order Meta's statuses arrive in, and counters follow."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests import factories
from webapp.campaigns.lifecycle import add_counts, claim, counts, move, recount, report
from webapp.campaigns.models import Recipient
from webapp.extensions import db
from webapp.meta_errors import MetaError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
COLUMNS = ("status", "reached", "sent_at", "delivered_at", "read_at", "replied_at", "failed_at", "error_code")


def _apply(row, events):
    deltas = {}
    for stage, at, failure in events:
        for name, value in report(row, stage, at, failure=failure).items():
            deltas[name] = deltas.get(name, 0) + value
    return tuple(getattr(row, c) for c in COLUMNS), {k: v for k, v in deltas.items() if v}


def _fresh():
    return Recipient(campaign_id=1, phone="+15550000001", status="sending", reached=0)


@pytest.mark.parametrize("events", [
    [("sent", T0, None), ("delivered", T0 + timedelta(seconds=1), None), ("read", T0 + timedelta(seconds=2), None)],
    [("sent", T0, None), ("failed", T0 + timedelta(seconds=3), MetaError(131026, "Message undeliverable"))],
    [("sent", T0, None), ("read", T0 + timedelta(seconds=2), None), ("replied", T0 + timedelta(seconds=9), None)],
])
def test_any_order_of_arrival_and_any_duplicates_give_the_same_row_and_counters(events):
    expected = _apply(_fresh(), events)
    for order in itertools.permutations(events + events[:1]):
        assert _apply(_fresh(), order) == expected


def test_a_late_sent_after_read_does_not_move_the_row_back():
    row = _fresh()
    report(row, "read", T0)
    assert report(row, "sent", T0 - timedelta(seconds=1)) == {}
    assert row.status == "read" and row.sent_at is not None


def test_read_without_delivered_counts_as_delivered_too():
    row = _fresh()
    assert report(row, "read", T0) == {"sending": -1, "accepted": 1, "sent": 1, "delivered": 1, "read": 1}


def test_a_message_failed_after_the_api_accepted_it_was_accepted_but_never_sent():
    row = _fresh()
    assert report(row, "accepted", T0, wamid="wamid.A") == {"sending": -1, "accepted": 1}
    assert report(row, "failed", T0, failure=MetaError(131026, "x")) == {"failed": 1, "code:131026": 1}
    assert (row.status, row.reached, row.accepted_at, row.sent_at) == ("failed", 1, T0, None)


def test_a_failed_rows_code_moves_its_count_from_one_code_to_the_other():
    row = _fresh()
    assert report(row, "failed", T0, failure=MetaError(131000, "Something went wrong")) == \
        {"sending": -1, "failed": 1, "code:131000": 1}  # its last refused attempt's error
    # the message of an earlier attempt had gone after all (its answer lost): Meta's word on it replaces the error
    assert report(row, "failed", T0, wamid="wamid.LOST", failure=MetaError(131026, "x")) == \
        {"code:131000": -1, "code:131026": 1}
    assert report(row, "failed", T0, wamid="wamid.LOST", failure=MetaError(131047, "y")) == {}  # a duplicate


def test_the_apis_answer_recorded_after_metas_sent_status_counts_nothing_twice():
    row = _fresh()
    assert report(row, "sent", T0) == {"sending": -1, "accepted": 1, "sent": 1}
    assert report(row, "accepted", T0, wamid="wamid.A") == {}
    assert (row.status, row.wamid) == ("sent", "wamid.A")


def test_skipped_rows_never_take_a_status():
    row = Recipient(status="skipped", reached=0)
    assert report(row, "failed", T0, failure=MetaError(131026, "x")) == {}
    assert row.status == "skipped"


def test_a_sent_row_cannot_be_put_back_to_pending():
    row = _fresh()
    report(row, "sent", T0)
    with pytest.raises(ValueError):
        move(row, "pending")


def test_counters_equal_a_recount_after_claims_and_reports(app):
    campaign = factories.campaign(phones=[f"+1555000{i:04d}" for i in range(30)])
    claimed = claim(db.session, campaign.id, 20, T0)
    db.session.commit()
    assert len(claimed) == 20
    rows = db.session.scalars(select(Recipient).where(Recipient.id.in_([c.id for c in claimed]))).all()
    for i, row in enumerate(rows):
        stage = ["sent", "delivered", "read", "replied", "failed"][i % 5]
        add_counts(db.session, campaign.id, report(row, stage, T0, failure=MetaError(131026, "Undeliverable")))
    add_counts(db.session, campaign.id, move(rows[0], "pending") if rows[0].status == "sending" else {})
    db.session.commit()
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)
    assert counts(db.session, campaign.id)["queued"] == 10


def test_no_row_is_claimed_once_the_campaign_is_paused(app):
    campaign = factories.campaign(phones=["+15550000001", "+15550000002"])
    campaign.status = "paused"
    db.session.commit()
    assert claim(db.session, campaign.id, 10, T0) == []


def test_rows_waiting_for_a_retry_are_not_claimed_before_their_time(app):
    campaign = factories.campaign(phones=["+15550000001"])
    row = db.session.scalars(select(Recipient)).one()
    row.next_attempt_at = T0 + timedelta(seconds=30)
    db.session.commit()
    assert claim(db.session, campaign.id, 10, T0) == []
    assert [c.phone for c in claim(db.session, campaign.id, 10, T0 + timedelta(seconds=31))] == ["+15550000001"]


def test_a_contact_who_opts_out_after_launch_is_skipped_not_sent(app):
    from webapp.contacts.models import Contact

    factories.contact_list("Customers", ["+15550000001", "+15550000002"])
    campaign = factories.campaign(phones=[])
    contacts = {c.phone: c for c in db.session.scalars(select(Contact))}
    for phone, contact in contacts.items():
        db.session.add(Recipient(campaign_id=campaign.id, contact_id=contact.id, phone=phone, status="pending",
                                 params={"body": ["Ana", "1"]}))
    add_counts(db.session, campaign.id, {"total": 2, "pending": 2})
    contacts["+15550000002"].opted_out_at = T0
    db.session.commit()

    claimed = claim(db.session, campaign.id, 10, T0)
    db.session.commit()
    assert [c.phone for c in claimed] == ["+15550000001"]
    skipped = db.session.scalars(select(Recipient).where(Recipient.phone == "+15550000002")).one()
    assert (skipped.status, skipped.skip_reason) == ("skipped", "Opted out after the campaign was launched")
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)

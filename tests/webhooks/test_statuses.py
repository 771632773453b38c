"""Statuses move recipient rows forward only, whatever the order, duplicates or races with the sender."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, fresh, wa_id, wamid
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.contacts.optouts import STOPPED_MARKETING
from webapp.extensions import db
from webapp.meta_errors import explain
from webapp.webhooks.models import UnmatchedStatus, WebhookEvent
from webapp.webhooks.parked import apply_parked_statuses, apply_stale_parked

UNDELIVERABLE = (131026, "Message undeliverable", "Unable to deliver message.")
COLUMNS = ("status", "reached", "sent_at", "delivered_at", "read_at", "failed_at", "error_code", "error_title",
           "error_detail", "wamid")


def _rows(campaign_id):
    db.session.expire_all()
    return [tuple(getattr(row, c) for c in COLUMNS) for row in db.session.scalars(
        select(Recipient).where(Recipient.campaign_id == campaign_id).order_by(Recipient.id))]


def _lifecycle(row, with_callback=True):
    """What Meta sends about one message: sent, delivered, read, a second each."""
    row_id = row.id if with_callback else None
    return [meta.status(wamid(row), name, T0 + timedelta(seconds=i), wa_id(row), row_id=row_id, pricing=i < 2)
            for i, name in enumerate(("sent", "delivered", "read"))]


def test_statuses_move_the_row_forward_with_metas_timestamps(client, webhook):
    campaign, [row] = accepted_campaign(1)
    for item in _lifecycle(row):
        assert meta.post(client, meta.statuses(item)).status_code == 200
    row = fresh(Recipient, row.id)
    assert row.status == "read"
    assert (row.sent_at, row.delivered_at, row.read_at) == (T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))
    assert row.claim_token is None
    figures = counts(db.session, campaign.id)
    assert (figures["sent"], figures["delivered"], figures["read"], figures["queued"]) == (1, 1, 1, 0)
    assert figures == recount(db.session, campaign.id)


def test_pricing_is_kept_on_the_row_for_cost_reports(client, webhook):
    campaign, [row] = accepted_campaign(1)
    meta.post(client, meta.statuses(_lifecycle(row)[0]))
    row = fresh(Recipient, row.id)
    assert (row.pricing_billable, row.pricing_category, row.pricing_model) == (True, "marketing", "PMP")


def test_a_failed_status_keeps_metas_code_title_and_details(client, webhook):
    campaign, [row] = accepted_campaign(1)
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id,
                                                error=UNDELIVERABLE)))
    row = fresh(Recipient, row.id)
    assert (row.status, row.error_code, row.error_title, row.error_detail) == (
        "failed", 131026, "Message undeliverable", "Unable to deliver message.")
    assert row.failed_at == T0
    assert counts(db.session, campaign.id)["failed"] == 1 == recount(db.session, campaign.id)["failed"]


def test_a_failed_status_replaces_the_error_a_row_waited_with_by_metas_own(client, webhook):
    campaign, [row] = accepted_campaign(1)
    row = fresh(Recipient, row.id)  # an earlier attempt got 131000 and was retried: this one was accepted
    row.error_code, row.error_title, row.error_detail = 131000, "Something went wrong", "Unknown error."
    db.session.commit()
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id,
                                                error=UNDELIVERABLE)))
    row = fresh(Recipient, row.id)
    assert (row.status, row.error_code, row.error_title, row.error_detail) == ("failed", *UNDELIVERABLE)


def test_replaying_the_same_payload_changes_nothing(client, webhook):
    campaign, rows = accepted_campaign(3)
    payload = meta.statuses(*(item for row in rows for item in _lifecycle(row)))
    assert meta.post(client, payload).status_code == 200
    once, figures = _rows(campaign.id), counts(db.session, campaign.id)
    for _ in range(2):
        assert meta.post(client, payload).status_code == 200
    assert _rows(campaign.id) == once
    assert counts(db.session, campaign.id) == figures == recount(db.session, campaign.id)
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 3  # every POST is kept


def test_statuses_in_reverse_order_give_the_same_final_rows(client, webhook):
    in_order, rows = accepted_campaign(3, first=0)
    reverse, other_rows = accepted_campaign(3, first=100, sender=in_order.sender)
    failing = lambda row: meta.status(wamid(row), "failed", T0 + timedelta(seconds=9), wa_id(row), error=UNDELIVERABLE)  # noqa: E731
    for row in rows:
        for item in _lifecycle(row)[:2 if row is rows[2] else 3] + ([failing(row)] if row is rows[2] else []):
            meta.post(client, meta.statuses(item))
    for row in other_rows:
        items = _lifecycle(row)[:2 if row is other_rows[2] else 3] + ([failing(row)] if row is other_rows[2] else [])
        for item in reversed(items):
            meta.post(client, meta.statuses(item))

    def without_identity(rows):
        return [r[:-1] for r in rows]

    assert without_identity(_rows(in_order.id)) == without_identity(_rows(reverse.id))
    assert [r[0] for r in _rows(reverse.id)] == ["read", "read", "failed"]
    assert counts(db.session, reverse.id) == counts(db.session, in_order.id) == recount(db.session, reverse.id)


def test_every_order_of_one_messages_statuses_in_one_post_gives_the_same_row(client, webhook):
    campaign, rows = accepted_campaign(6)
    for row, order in zip(rows, itertools.permutations(range(3))):
        mine = _lifecycle(row)
        meta.post(client, meta.statuses(*(mine[i] for i in order)))
    assert len({r[:-1] for r in _rows(campaign.id)}) == 1
    assert counts(db.session, campaign.id)["read"] == 6 == recount(db.session, campaign.id)["read"]


def test_a_status_found_by_callback_data_gives_the_row_its_wamid(client, webhook):
    campaign, [row] = accepted_campaign(1, with_wamids=False)
    meta.post(client, meta.statuses(meta.status("wamid.EARLY", "sent", T0, wa_id(row), row_id=row.id)))
    row = fresh(Recipient, row.id)
    assert (row.status, row.wamid) == ("sent", "wamid.EARLY")


def test_callback_data_not_in_our_form_is_not_trusted(client, webhook):
    campaign, rows = accepted_campaign(2)
    item = meta.status(wamid(rows[0]), "read", T0, wa_id(rows[0]))
    item["biz_opaque_callback_data"] = f"rcpt:{rows[1].id}"
    meta.post(client, meta.statuses(item))
    assert [fresh(Recipient, row.id).status for row in rows] == ["read", "sending"]


def test_a_status_before_the_wamid_is_committed_is_parked_then_applied(client, webhook):
    """A quick 131049 failure carries no callback data and can beat the sender's commit of the wamid."""
    campaign, [row] = accepted_campaign(1, with_wamids=False)
    early = meta.status("wamid.RACED", "failed", T0, wa_id(row),
                        error=(131049, "This message was not delivered to maintain healthy ecosystem engagement.",
                               "Meta chose not to deliver."))
    assert meta.post(client, meta.statuses(early)).status_code == 200
    assert fresh(Recipient, row.id).status == "sending"
    assert db.session.scalar(select(func.count()).select_from(UnmatchedStatus)) == 1

    row.wamid = "wamid.RACED"  # the sender commits the API's answer …
    db.session.commit()
    assert apply_parked_statuses(db.session, ["wamid.RACED", "wamid.OTHER"]) == 1  # … and calls this

    row = fresh(Recipient, row.id)
    assert (row.status, row.error_code) == ("failed", 131049)
    assert db.session.scalar(select(func.count()).select_from(UnmatchedStatus)) == 0
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)


def test_apply_parked_statuses_does_nothing_when_nothing_waits(app, webhook):
    campaign, [row] = accepted_campaign(1)
    assert apply_parked_statuses(db.session, [wamid(row)]) == 0
    assert apply_parked_statuses(db.session, []) == 0


def test_the_sweep_applies_parked_statuses_the_sender_missed(client, webhook):
    campaign, rows = accepted_campaign(2, with_wamids=False)
    for row in rows:
        meta.post(client, meta.statuses(meta.status(f"wamid.LATE{row.id}", "delivered", T0, wa_id(row))))
    rows[0].wamid = f"wamid.LATE{rows[0].id}"
    db.session.commit()

    assert apply_stale_parked(db.session) == 1
    assert [fresh(Recipient, row.id).status for row in rows] == ["delivered", "sending"]
    assert db.session.scalar(select(func.count()).select_from(UnmatchedStatus)) == 1  # still waiting for its row


def test_a_marketing_limit_failure_holds_the_contact_for_24_hours_from_metas_timestamp(client, webhook):
    campaign, [row, other] = accepted_campaign(2)
    db.session.add_all([Contact(phone=row.phone, name="Ana"), Contact(phone=other.phone, name="Ben")])
    db.session.commit()
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id, error=(
        131049, "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."))))
    db.session.expire_all()
    holds = dict(db.session.execute(select(Contact.phone, Contact.marketing_hold_until)).all())
    assert holds == {row.phone: T0 + timedelta(hours=24), other.phone: None}
    assert fresh(Recipient, row.id).status == "failed"


def test_user_stopped_marketing_failure_opts_the_contact_out(client, webhook):
    campaign, [row] = accepted_campaign(1)
    contact = Contact(phone=row.phone, name="Ana")
    db.session.add(contact)
    db.session.commit()
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id,
                                                error=(131050, "Unable to deliver the message.",
                                                       "User stopped marketing messages."))))
    contact = fresh(Contact, contact.id)
    assert contact.opted_out_at == T0
    assert contact.opt_out_reason == STOPPED_MARKETING


@pytest.mark.parametrize("error", [
    (131048, "Spam rate limit hit", "Message failed to send because there are restrictions on how many messages "
                                    "can be sent from this phone number."),
    (132015, "Template is paused", "Template is paused due to low quality."),
    (131031, "Business account locked", ""),
    (368, "Temporarily blocked for policies violations", ""),
])
def test_a_failed_status_whose_code_stops_sending_pauses_the_campaign_as_a_send_answer_would(client, webhook, error):
    campaign, rows = accepted_campaign(3)
    meta.post(client, meta.statuses(meta.status(wamid(rows[0]), "failed", T0, wa_id(rows[0]), row_id=rows[0].id,
                                                error=error)))
    campaign = fresh(Campaign, campaign.id)
    code, title, details = error
    assert campaign.status == "paused"
    assert campaign.notice_code == code
    # In plain words first (naming the template where the error is about it), then Meta's own.
    assert campaign.notice.startswith(f"Paused: {explain(code, 'order_update (en_US)')} (Meta: error {code}: {title}")
    assert (f"“{details}”" in campaign.notice) == bool(details)
    assert fresh(Recipient, rows[0].id).status == "failed"
    assert [fresh(Recipient, row.id).status for row in rows[1:]] == ["sending", "sending"]


def test_a_failed_status_for_one_recipient_leaves_the_campaign_sending(client, webhook):
    campaign, [row, _] = accepted_campaign(2)
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id,
                                                error=UNDELIVERABLE)))
    assert fresh(Campaign, campaign.id).status == "sending"


def test_a_thousand_statuses_in_one_post_are_all_applied(client, webhook):
    campaign, rows = accepted_campaign(500)
    items = [item for row in rows for item in _lifecycle(row, with_callback=row.id % 2 == 0)[:2]]
    assert len(items) == 1000
    assert meta.post(client, meta.statuses(*items)).status_code == 200
    figures = counts(db.session, campaign.id)
    assert (figures["sent"], figures["delivered"], figures["queued"]) == (500, 500, 0)
    assert figures == recount(db.session, campaign.id)
    assert {r[0] for r in _rows(campaign.id)} == {"delivered"}


def test_a_late_sent_after_read_only_fills_in_the_sent_time(client, webhook):
    campaign, [row] = accepted_campaign(1)
    sent, _, read = _lifecycle(row)
    meta.post(client, meta.statuses(read))
    meta.post(client, meta.statuses(sent))
    row = fresh(Recipient, row.id)
    assert (row.status, row.sent_at) == ("read", T0)


def test_a_status_parked_while_the_sender_commits_its_wamid_is_still_applied_at_once(client, webhook,
                                                                                    monkeypatch):
    """The race the other way round: the sender committed the wamid and found nothing parked, and only then
    did the webhook (which had looked the wamid up before that commit) park its status."""
    from webapp.webhooks import services

    campaign, rows = accepted_campaign(1)
    row = rows[0]
    # Every status misses its row, as a lookup made a moment before the sender's commit would.
    monkeypatch.setattr(services, "route_statuses", lambda session, updates: list(updates))
    meta.post(client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row),
                                                error=(131049, "Marketing limit", ""))))
    db.session.expire_all()
    assert db.session.get(Recipient, row.id).status == "failed"

"""Webhooks lock the campaign rows they change in ascending id order, as the sender does when it records its
answers: a transaction that took a later row and then waited for an earlier one would deadlock with the sender
holding the earlier one and waiting for the later (PostgreSQL then ends one of them; the sender's was lost)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from jobs.campaigns import dispatcher
from tests.locks import wait_for_a_lock_wait
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, fresh, wa_id, wamid
from webapp.campaigns import statuses
from webapp.campaigns.dispatch import Outcome
from webapp.campaigns.lifecycle import Claimed, counts
from webapp.campaigns.models import Recipient
from webapp.cloudapi import SendResult
from webapp.extensions import db
from webapp.webhooks.services import apply_events, record_events

pytestmark = pytest.mark.only_on("postgresql")


@contextmanager
def held(*row_ids: int):
    """Rows locked by another connection, as the sender's transaction holds the rows it is recording."""
    with db.engine.connect() as other:
        other.execute(text("SELECT id FROM recipients WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
                      {"ids": list(row_ids)})
        yield other
        other.rollback()


def is_free(row_id: int) -> bool:
    """Whether a third transaction could lock the row right now."""
    with db.engine.connect() as third:
        try:
            third.execute(text("SELECT id FROM recipients WHERE id = :id FOR UPDATE NOWAIT"), {"id": row_id})
            return True
        except OperationalError:
            return False
        finally:
            third.rollback()


def apply_in_the_background(app, payload: dict) -> threading.Thread:
    def run():
        with app.app_context():
            [event_id] = record_events(db.session, [meta.body_of(payload)])
            apply_events(db.session, [(event_id, payload)])
            db.session.remove()
    thread = threading.Thread(target=run)
    thread.start()
    wait_for_a_lock_wait()
    assert thread.is_alive(), "the webhook was applied without waiting for the held row"
    return thread


def test_a_reply_to_an_earlier_row_waits_for_it_before_the_later_rows_status_takes_its_row(app, webhook):
    campaign, [earlier, later] = accepted_campaign(2)
    reply = meta.message("wamid.IN1", wa_id(earlier), T0 + timedelta(minutes=1), "Still on?", context=wamid(earlier))
    status = meta.statuses(meta.status(wamid(later), "sent", T0, wa_id(later), row_id=later.id))
    payload = {**status, "entry": status["entry"] + reply["entry"]}  # one POST: the later row's status first
    with held(earlier.id) as sender:
        webhook_thread = apply_in_the_background(app, payload)
        assert is_free(later.id), "the webhook holds the later row while it waits for the earlier one"
        sender.execute(text("SELECT id FROM recipients WHERE id = :id FOR UPDATE"), {"id": later.id})
    webhook_thread.join(10)
    assert (fresh(Recipient, earlier.id).status, fresh(Recipient, later.id).status) == ("replied", "sent")


def test_a_batch_of_more_statuses_than_one_statement_locks_its_rows_in_id_order(app, webhook, monkeypatch):
    monkeypatch.setattr(statuses, "CHUNK", 2)
    campaign, rows = accepted_campaign(8)
    for n, row in enumerate(rows):  # wamids in the opposite order to the ids
        row.wamid = f"wamid.R{len(rows) - n:04d}"
    db.session.commit()
    payload = meta.statuses(*(meta.status(row.wamid, "delivered", T0, wa_id(row)) for row in rows))
    with held(rows[3].id):
        webhook_thread = apply_in_the_background(app, payload)
        assert [is_free(row.id) for row in rows[4:]] == [True] * 4, "rows after the held one were locked first"
    webhook_thread.join(10)
    assert {fresh(Recipient, row.id).status for row in rows} == {"delivered"}


def test_the_senders_record_of_its_answers_is_done_again_when_postgresql_ends_it_as_a_deadlocks_victim(app, webhook):
    """Locks taken in two sweeps (rows, then counters) can still deadlock; the victim must not lose Meta's answers."""
    campaign, rows = accepted_campaign(2, with_wamids=False)
    answers = [Outcome(Claimed(row.id, row.phone, None, row.attempts, row.claim_token),
                       result=SendResult(wamid=f"wamid.ANSWER{n}", wa_id=wa_id(row))) for n, row in enumerate(rows)]
    sender, failures = dispatcher(campaign.id), []

    def record():
        with app.app_context():
            try:
                sender.record(answers)
            except Exception as exc:  # noqa: BLE001 - the test reports it
                failures.append(exc)
            db.session.remove()

    def take_the_earlier_row(other):
        try:
            other.execute(text("SELECT id FROM recipients WHERE id = :id FOR UPDATE"), {"id": rows[0].id})
        except Exception as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)
    with held(rows[1].id) as other:  # another transaction holds the later row…
        # …and never looks for the deadlock itself: the sender's transaction must be the one PostgreSQL ends.
        other.execute(text("SET LOCAL deadlock_timeout = '60s'"))
        with held(rows[0].id):  # a third holds the earlier row until both wait for it, the sender first:
            recording = threading.Thread(target=record)
            recording.start()
            wait_for_a_lock_wait()
            waits_for_the_earlier = threading.Thread(target=take_the_earlier_row, args=(other,))
            waits_for_the_earlier.start()
            wait_for_a_lock_wait(waiting=2)
        # The sender takes the earlier row and waits for the later one while the other already waits for the
        # earlier: the sender's one look for a deadlock, deadlock_timeout after its wait began, finds it however
        # slow the machine (a look before the other waited would find nothing, and nothing would end the sender).
        waits_for_the_earlier.join(10)
        other.commit()  # it got the earlier row once PostgreSQL ended the sender's transaction
    recording.join(10)
    assert failures == []
    assert [(fresh(Recipient, row.id).status, fresh(Recipient, row.id).wamid) for row in rows] == \
        [("accepted", "wamid.ANSWER0"), ("accepted", "wamid.ANSWER1")]
    assert counts(db.session, campaign.id)["accepted"] == 2

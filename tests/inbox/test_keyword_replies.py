"""The workspace's replies to an opt-out or opt-in keyword: sent at once, once, through the answers' job, and shown
in the Inbox as automatic; nothing when the reply is blank or the customer's window has closed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import jobs.inbox
from tests.webhooks import meta
from tests.webhooks.scenarios import configure_webhook
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Answer, Conversation
from webapp.timestamps import utcnow

STOPPED = "You won't get our offers any more. Write START to get them again."
WELCOME = "Welcome back!"


def _write(client, text: str, minutes_ago: float, wamid: str) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    assert meta.post(client, meta.message(wamid, "15550000001", at, text)).status_code == 200


def _answers() -> list[tuple[str, bool, str]]:
    db.session.expire_all()
    return [(a.text, a.automatic, a.status) for a in db.session.scalars(select(Answer).order_by(Answer.id))]


def test_a_stop_is_answered_once_and_a_start_after_it_too(admin_client, sandbox, sandbox_sender, webhook):
    configure_webhook(opt_out_reply=STOPPED, opt_in_reply=WELCOME)
    _write(admin_client, "STOP", minutes_ago=10, wamid="wamid.IN1")
    _write(admin_client, "STOP", minutes_ago=10, wamid="wamid.IN1")  # Meta sent it again
    _write(admin_client, "stop", minutes_ago=9, wamid="wamid.IN2")  # already opted out: nothing more to say
    assert _answers() == [(STOPPED, True, "pending")]

    [answer_id] = db.session.scalars(select(Answer.id))
    assert jobs.inbox.send_answer(answer_id) == "accepted"
    [sent] = sandbox.messages()
    assert (sent["to"], sent["type"], sent["text"]) == ("+15550000001", "text", STOPPED)

    _write(admin_client, "Start", minutes_ago=1, wamid="wamid.IN3")
    assert _answers() == [(STOPPED, True, "accepted"), (WELCOME, True, "pending")]
    assert db.session.scalar(select(Contact)).opted_out_at is None
    conversation = db.session.scalar(select(Conversation))
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert page.count("Automatic reply ·") == 2 and "Staff answered" not in page


def test_nothing_is_sent_when_the_reply_is_blank_or_the_stop_came_a_day_late(admin_client, sandbox_sender, webhook):
    _write(admin_client, "STOP", minutes_ago=5, wamid="wamid.IN1")
    assert _answers() == [] and db.session.scalar(select(Contact)).opted_out_at is not None

    configure_webhook(opt_out_reply=STOPPED)
    at = (utcnow() - timedelta(hours=25)).replace(microsecond=0)  # Meta delivered it late: the window it opened has closed
    assert meta.post(admin_client, meta.message("wamid.IN2", "15550000002", at, "STOP")).status_code == 200
    assert _answers() == []
    assert db.session.scalar(select(Contact).where(Contact.phone == "+15550000002")).opted_out_at == at

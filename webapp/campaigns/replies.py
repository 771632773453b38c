"""A customer's message counted as the reply to the campaign message it answers."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import report
from webapp.campaigns.models import Recipient
from webapp.transactions import is_sqlite

ANSWERABLE = ("accepted", "sent", "delivered", "read", "replied")  # a row the customer can have seen
CLOCK_SLACK = timedelta(minutes=1)  # our send time and Meta's reply time come from different clocks


def answered_row(session: Session, phone: str, context_wamid: str, at: datetime, window: timedelta) -> Recipient | None:
    """The row a message answers: the one it quotes (context.id), else the latest row sent to that
    number (or answered by Meta with it as the wa_id) within the attribution window before it. Locked
    (PostgreSQL) for the caller's write."""
    for query in _answered(phone, context_wamid, at, window):
        if (row := session.scalar(_lock(session, query))) is not None:
            return row
    return None


def answered_id(session: Session, phone: str, context_wamid: str, at: datetime, window: timedelta) -> int | None:
    """The id of the row `answered_row` finds, read without a lock: for a transaction that locks it beforehand
    with the other rows it changes, in one ascending sweep (campaigns/statuses.load_rows)."""
    for query in _answered(phone, context_wamid, at, window):
        if (found := session.scalar(query.with_only_columns(Recipient.id))) is not None:
            return found
    return None


def _answered(phone: str, context_wamid: str, at: datetime, window: timedelta):
    if context_wamid:
        yield select(Recipient).where(Recipient.wamid == context_wamid)
    sent_at = func.coalesce(Recipient.sent_at, Recipient.accepted_at, Recipient.delivered_at, Recipient.read_at)
    yield (select(Recipient)
           .where(or_(Recipient.phone == phone, Recipient.wa_id == phone.lstrip("+")),
                  Recipient.status.in_(ANSWERABLE), sent_at >= at - window, sent_at <= at + CLOCK_SLACK)
           .order_by(Recipient.id.desc()).limit(1))


def number_sent_to(session: Session, phone: str) -> str | None:
    """The number our messages went to when Meta answered them with `phone` as the wa_id, if it did."""
    return session.scalar(select(Recipient.phone).where(Recipient.wa_id == phone.lstrip("+"))
                          .order_by(Recipient.id.desc()).limit(1))


def count_reply(row: Recipient, at: datetime, text: str, button: str, is_latest: bool) -> Counter:
    """Mark the row replied (the first reply's time, even when it comes late) and keep the latest reply's
    text; return the counter changes."""
    deltas = report(row, "replied", at)
    row.replied_at = min(row.replied_at, at)
    if is_latest:
        row.reply_text, row.reply_button = text, button
    return deltas


def _lock(session: Session, query):
    query = query.execution_options(populate_existing=True)
    return query if is_sqlite(session) else query.with_for_update()

"""Clicks on tracked links waiting to be counted: the public redirect writes one row per person's click (one plain
INSERT, before its 302) and a job counts them in batches, deleting each row in the transaction that counts it
(webapp/tracking/clicks.py). The database keeps every click, whatever happens to Redis or to a worker."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.timestamps import UTCDateTime

QueueId = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers an INTEGER PRIMARY KEY itself


class QueuedClick(db.Model):
    """A person's click, redirected and not yet counted. No foreign keys: the row lives a second or two, and the
    job that counts it checks the link and the recipient (a click whose campaign was deleted meanwhile is dropped)."""

    __tablename__ = "queued_clicks"

    id: Mapped[int] = mapped_column(QueueId, primary_key=True)
    link_id: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int] = mapped_column(BigInteger)
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""RQ entry point: count the clicks the redirect queued (webapp/tracking/clicks.py), a batch per transaction, until
none is left. Safe to run twice at once or again: a click is deleted in the transaction that counts it."""
from __future__ import annotations

from webapp.extensions import db
from webapp.tracking.clicks import BATCH, count_queued


def count() -> int:
    """How many queued clicks were counted."""
    counted = 0
    while True:
        taken = count_queued(db.session, BATCH)
        db.session.commit()
        counted += taken
        if taken < BATCH:
            return counted

"""Waiting for PostgreSQL's row locks in tests of what concurrent transactions do to each other."""
from __future__ import annotations

import time

from sqlalchemy import text

from webapp.extensions import db

WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")


def lock_waits(connection) -> int:
    """How many transactions of the test's database wait for a lock now. PostgreSQL reads pg_stat_activity once a
    transaction and keeps it: without the snapshot cleared, a wait begun after a transaction's first look is never seen."""
    connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    return connection.scalar(WAITING)


def wait_for_a_lock_wait(timeout: float = 10, waiting: int = 1) -> None:
    """Return once `waiting` transactions of the test's database wait for a lock (or after `timeout`: the caller's
    assertions then say what happened instead)."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as watcher:
        while lock_waits(watcher) < waiting and time.monotonic() < deadline:
            time.sleep(0.02)

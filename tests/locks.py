"""Waiting for PostgreSQL's row locks in tests of what concurrent transactions do to each other."""
from __future__ import annotations

import time

from sqlalchemy import text

from webapp.extensions import db

WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")


def wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Return once a transaction of the test's database waits for a lock (or after `timeout`: the caller's
    assertions then say what happened instead)."""
    deadline = time.monotonic() + timeout
    with db.engine.connect() as watcher:
        while not watcher.scalar(WAITING) and time.monotonic() < deadline:
            time.sleep(0.02)

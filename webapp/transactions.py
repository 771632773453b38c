"""Write transactions that read rows and then change them, safe with many processes on either database.

PostgreSQL locks the rows read with FOR UPDATE. SQLite has one writer at a time, so such a transaction
starts with BEGIN IMMEDIATE: it waits for the write lock before reading, and never decides on a stale read.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def begin_write(session: Session) -> None:
    """Call first in a transaction that will write what it reads."""
    if session.get_bind().dialect.name != "sqlite":
        return
    dbapi = session.connection().connection.dbapi_connection
    if not dbapi.in_transaction:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


T = TypeVar("T")
CONFLICTS = ("40P01", "40001")  # PostgreSQL's deadlock_detected and serialization_failure: run the victim again


def retried(session: Session, work: Callable[[], T], attempts: int = 4) -> T:
    """Run `work`, a write transaction that ends by committing, again when PostgreSQL ends it as a deadlock's victim.

    Transactions lock the rows of a table in ascending id order (campaigns/statuses.load_rows), so deadlocks are
    rare: they come from locks taken in two sweeps, as counters after rows. The victim's work is lost with its
    rollback and done again once the other transaction has gone on; what `work` keeps outside the database must
    therefore change only after its commit."""
    for attempt in range(1, attempts):
        try:
            return work()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in CONFLICTS:
                raise
            session.rollback()
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter, not a secret
    return work()


def upsert(session: Session, table):
    """An INSERT … ON CONFLICT builder for the session's dialect (both speak the same clause)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return generic_insert(table)  # pragma: no cover - only the two supported databases reach here


def adding(session: Session, table: Table, key: tuple[str, ...], added: tuple[str, ...],
           latest: tuple[str, ...] = ()):
    """INSERT … ON CONFLICT (key) DO UPDATE adding the new row's `added` columns to the stored ones (and taking its
    `latest` ones): the upsert of kept counters, executed with the rows as parameters. Built once per dialect and
    shape: building it costs more than running it (webhook ingest runs several per batch)."""
    return _adding(session.get_bind().dialect.name, table, key, added, latest)


@cache
def _adding(dialect: str, table: Table, key: tuple[str, ...], added: tuple[str, ...], latest: tuple[str, ...]):
    stmt = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={**{name: table.c[name] + stmt.excluded[name] for name in added},
              **{name: stmt.excluded[name] for name in latest}})


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"

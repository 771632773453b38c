"""Write transactions that read rows and then change them, safe with many processes on either database.

PostgreSQL locks the rows read with FOR UPDATE. SQLite has one writer at a time, so such a transaction
starts with BEGIN IMMEDIATE: it waits for the write lock before reading, and never decides on a stale read.
"""
from __future__ import annotations

from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def begin_write(session: Session) -> None:
    """Call first in a transaction that will write what it reads."""
    if session.get_bind().dialect.name != "sqlite":
        return
    dbapi = session.connection().connection.dbapi_connection
    if not dbapi.in_transaction:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def upsert(session: Session, table):
    """An INSERT … ON CONFLICT builder for the session's dialect (both speak the same clause)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return generic_insert(table)  # pragma: no cover - only the two supported databases reach here


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"

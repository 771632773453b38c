"""Stable public UUIDs: the ids other programs hold for our campaigns, contacts, lists, senders, templates and
segments (the compat APIs speak UUIDs; our own API shows them as `uuid`).

The default is the database's, per row, so rows written in bulk (an import's INSERT … SELECT) get one each:
PostgreSQL's gen_random_uuid(), or on SQLite a version-4 UUID made of random bytes, as 32 hex digits (how
SQLAlchemy's Uuid type stores one there)."""
from __future__ import annotations

import uuid

from sqlalchemy import Uuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

SQLITE_RANDOM_UUID = ("lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2) || "
                      "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || "
                      "hex(randomblob(6)))")


class random_uuid(FunctionElement):  # noqa: N801 - a SQL function, named as one
    type = Uuid()
    inherit_cache = True


@compiles(random_uuid)
def _postgresql(element, compiler, **kw) -> str:
    return "gen_random_uuid()"


@compiles(random_uuid, "sqlite")
def _sqlite(element, compiler, **kw) -> str:
    return f"({SQLITE_RANDOM_UUID})"


def public_id_column() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, unique=True, default=random_uuid())


def parse(value: object) -> uuid.UUID | None:
    """A UUID from a client's string; None when it is not one (the caller answers its own 404 or 422)."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

"""The month's spend: what Meta billed the workspace, added to as billable statuses arrive, read in one small query
(a few shard rows a month, whatever the volume), for the monthly budget."""
from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.pricing.models import MonthlySpend
from webapp.transactions import upsert

SHARDS = 4


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def add(session: Session, month: str, micros: int) -> None:
    """Add to a month's spend (on a random shard) in the caller's transaction."""
    if not micros:
        return
    table = MonthlySpend.__table__
    stmt = upsert(session, table)
    session.execute(stmt.on_conflict_do_update(index_elements=["month", "shard"],
                                               set_={"micros": table.c.micros + stmt.excluded.micros}),
                    [{"month": month, "shard": random.randrange(SHARDS), "micros": micros}])


def spent(session: Session, month: str) -> int:
    """The month's spend so far, in millionths of the card's currency."""
    return int(session.scalar(select(func.sum(MonthlySpend.micros)).where(MonthlySpend.month == month)) or 0)

"""The campaign page's timeline figures, kept as rows move: how many rows were sent, delivered and read in each
second and each minute of a campaign — what a GROUP BY over the rows' stamps would say, without reading them.

A row's `sent_at`, `delivered_at` and `read_at` are set once (campaigns/lifecycle.py: never moved back), only by
Meta's statuses (campaigns/statuses.py), which hand the rows they stamped to a `Stamps` in the transaction that
stamps them; `write` adds them up on a random shard (as the counters are), in key order (a fixed lock order).

Seconds draw a campaign of a few minutes; minutes one of hours or days, in a few hundred figures whatever its size.
`SCANNED` is the GROUP BY the table stands in for (tests, and the benchmark's baseline); `rebuild` refills the table
from the rows (the migration, a repair).
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import BigInteger, cast, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from webapp.campaigns.models import Recipient, TimelineCount
from webapp.transactions import adding, is_sqlite

STAGES = ("sent", "delivered", "read")
WIDTHS = (1, 60)  # seconds
SHARDS = 4
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
KEY = ("campaign_id", "width", "stage", "at", "shard")
_table = TimelineCount.__table__


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970 (UTC), as the database's floor of the stamp gives them."""
    return ((moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) - EPOCH) // SECOND


class Stamps:
    """The stamps one transaction set, added up by bucket."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, campaign_id: int, stage: str, moment: datetime) -> None:
        second = epoch_seconds(moment)
        for width in WIDTHS:
            self.counts[(campaign_id, width, stage, second - second % width)] += 1

    def write(self, session: Session) -> None:
        if not self.counts:
            return
        shard = random.randrange(SHARDS)
        session.execute(adding(session, _table, KEY, ("count",)), [{"campaign_id": campaign_id, "width": width, "stage": stage, "at": at, "shard": shard,
                                "count": count}
                               for (campaign_id, width, stage, at), count in sorted(self.counts.items())])
        self.counts.clear()


@dataclass(frozen=True)
class Source:
    """Where a timeline's figures come from: its first and last stamped second (None: nothing stamped yet), and
    (stage, bucket start in seconds since 1970, rows) for each bucket of a width in seconds."""

    span: Callable[[Session, int], tuple[int, int] | None]
    buckets: Callable[[Session, int, int], list[tuple[str, int, int]]]


def _kept_span(session: Session, campaign_id: int) -> tuple[int, int] | None:
    """From the seconds' figures: per stage, the first and last of an index's range (a few rows read)."""
    return _span(session, [select(func.min(_table.c.at), func.max(_table.c.at))
                           .where(_table.c.campaign_id == campaign_id, _table.c.width == 1, _table.c.stage == stage)
                           for stage in STAGES])


def _kept_buckets(session: Session, campaign_id: int, grain: int) -> list[tuple[str, int, int]]:
    """The minutes' figures when the grain is whole minutes, else the seconds'."""
    width = max(width for width in WIDTHS if grain % width == 0)
    bucket = _table.c.at // grain
    query = (select(_table.c.stage, bucket, func.sum(_table.c.count))
             .where(_table.c.campaign_id == campaign_id, _table.c.width == width)
             .group_by(_table.c.stage, bucket))
    return [(stage, int(at) * grain, int(count)) for stage, at, count in session.execute(query)]


def _scanned_span(session: Session, campaign_id: int) -> tuple[int, int] | None:
    return _span(session, [select(func.min(_epoch(session, column)), func.max(_epoch(session, column)))
                           .where(Recipient.campaign_id == campaign_id, column.is_not(None))
                           for column in _stamps()])


def _scanned_buckets(session: Session, campaign_id: int, grain: int) -> list[tuple[str, int, int]]:
    parts = []
    for stage, column in zip(STAGES, _stamps()):
        bucket = _epoch(session, column) // grain
        parts.append(select(literal(stage), bucket, func.count())
                     .where(Recipient.campaign_id == campaign_id, column.is_not(None)).group_by(bucket))
    return [(stage, int(at) * grain, int(count)) for stage, at, count in session.execute(union_all(*parts))]


def _span(session: Session, parts: list) -> tuple[int, int] | None:
    found = [(int(first), int(last)) for first, last in session.execute(union_all(*parts)) if first is not None]
    return (min(first for first, _ in found), max(last for _, last in found)) if found else None


def _stamps() -> list:
    return [getattr(Recipient, f"{stage}_at") for stage in STAGES]


KEPT = Source(_kept_span, _kept_buckets)  # what the page draws
SCANNED = Source(_scanned_span, _scanned_buckets)  # the GROUP BY over every row it stands in for


def rebuild(session: Session, campaign_ids: list[int] | None = None) -> None:
    """Empty the figures of these campaigns (None: all) and fill them from the rows, set-based, in the caller's
    transaction."""
    emptied = delete(_table)
    if campaign_ids is not None:
        emptied = emptied.where(_table.c.campaign_id.in_(campaign_ids))
    session.execute(emptied)
    for stage, column in zip(STAGES, _stamps()):
        for width in WIDTHS:
            at = _epoch(session, column) // width * width
            rows = select(Recipient.campaign_id, literal(width), literal(stage), at, literal(0), func.count()) \
                .where(column.is_not(None)).group_by(Recipient.campaign_id, at)
            if campaign_ids is not None:
                rows = rows.where(Recipient.campaign_id.in_(campaign_ids))
            session.execute(insert(_table).from_select(["campaign_id", "width", "stage", "at", "shard", "count"], rows))


def _epoch(session: Session, column):
    """A stamp's whole seconds since 1970, in SQL."""
    if is_sqlite(session):
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)

"""What Meta says of our messages (sent, delivered, read, failed) applied to their recipient rows.

A status finds its row by the id our sender put in biz_opaque_callback_data, else by wamid. Statuses
whose row is not found are handed back to the caller (the webhooks area parks them until the wamid is
committed). A `failed` status has the effects of its error code beyond the row (campaigns/outcomes.py).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.costs import Charge, record_billed
from webapp.campaigns.daily import Tally
from webapp.campaigns.lifecycle import add_counts, report
from webapp.campaigns.models import Recipient
from webapp.campaigns.outcomes import Effects, apply_effects, settle_failed_status
from webapp.campaigns.timeline_counts import STAGES, Stamps
from webapp.events.outbox import emit_many, wanted
from webapp.meta_errors import MetaError
from webapp.pricing.rate_card import prices
from webapp.timestamps import iso
from webapp.transactions import is_sqlite

TRACKED_STATUSES = ("sent", "delivered", "read", "failed")  # what moves a row (`played`, `deleted`… do not)
CHUNK = 500  # ids per IN (…): well inside every driver's parameter limit


@dataclass(frozen=True)
class Pricing:
    billable: bool | None
    category: str
    model: str


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str
    at: datetime
    row_id: int | None  # from biz_opaque_callback_data, when it is ours
    failure: MetaError | None
    pricing: Pricing | None
    raw: dict  # the item as Meta sent it, for whoever must keep it until its row is known


# What a status can change on a row, and what finding and reporting on it needs besides.
CHANGEABLE = ("status", "reached", "wamid", "claim_token", "sent_at", "delivered_at", "read_at", "replied_at",
              "failed_at", "error_code", "error_title", "error_detail", "pricing_billable", "pricing_category",
              "pricing_model", "cost")
COLUMNS = ("id", "campaign_id", "phone", "country", "sending_at", "zone", *CHANGEABLE)  # the last two: the dashboard's day
_table = Recipient.__table__
# One UPDATE for every changed row of a batch (executemany), rather than the ORM's per-object flush:
# the ingest of thousands of statuses a second spends its time here.
WRITE_BACK = (update(_table).where(_table.c.id == bindparam("row_id"))
              .values({name: bindparam(f"new_{name}", type_=_table.c[name].type) for name in CHANGEABLE}))
LOAD_ROWS = (select(*(_table.c[name] for name in COLUMNS))
             .where(or_(_table.c.id.in_(bindparam("ids", expanding=True)),
                        _table.c.wamid.in_(bindparam("wamids", expanding=True))))
             .order_by(_table.c.id))
LOAD_ROWS_LOCKED = LOAD_ROWS.with_for_update()
STAMPED = tuple((stage, CHANGEABLE.index(f"{stage}_at")) for stage in STAGES)  # the timeline's stamps in a snapshot


class RowState(SimpleNamespace):
    """A recipient row's fields as plain attributes: lifecycle.report() moves it like a Recipient."""


def apply_statuses(session: Session, updates: list[StatusUpdate]) -> list[StatusUpdate]:
    """Apply statuses to their rows in the caller's write transaction; return those whose row is unknown.

    Rows are read in a few queries and written back in one, and each campaign's counters change once,
    whatever the batch size.
    """
    if not updates:
        return []
    rows = load_rows(session, {u.row_id for u in updates if u.row_id}, {u.wamid for u in updates})
    by_id = {row.id: row for row in rows}
    by_wamid = {row.wamid: row for row in rows if row.wamid}
    before = {row.id: _snapshot(row) for row in rows}
    deltas: dict[int, Counter] = defaultdict(Counter)
    unmatched, effects, charges, tally = [], Effects(), [], Tally()
    card = None  # the rate card, read once a batch and only when a message is billed
    events = [] if wanted(session, "message.status") else None  # None: no endpoint listens, nothing to note
    for update_ in updates:
        row = _row_for(update_, by_id, by_wamid)
        if row is None:
            unmatched.append(update_)
            continue
        seen = _snapshot(row) if events is not None else None
        changes = report(row, update_.status, update_.at, wamid=update_.wamid, failure=update_.failure)
        deltas[row.campaign_id].update(changes)
        tally.add(row, changes, update_.at)
        by_wamid.setdefault(row.wamid, row)
        if update_.pricing:
            first_billed = update_.pricing.billable is True and row.pricing_billable is not True
            row.pricing_billable = update_.pricing.billable
            row.pricing_category = update_.pricing.category or row.pricing_category
            row.pricing_model = update_.pricing.model or row.pricing_model
            if first_billed:  # billed once, at the price of its category and country now
                card = card or prices(session)
                price = card.of(row.pricing_category or "marketing", row.country)
                row.cost = price  # None: the card has no price for it (the counters add nothing)
                charges.append(Charge(row.campaign_id, update_.at, price))
                if price:
                    tally.add_figures(row.campaign_id, row.sending_at or update_.at, row.zone, cost=price)
        if update_.status == "failed":
            settle_failed_status(row, update_.failure, update_.at, effects)
        if events is not None and _snapshot(row) != seen:  # a duplicate or a late, older status tells nothing new
            events.append(_status_event(update_, row))
    changed, stamps = [], Stamps()
    for row in rows:
        after, was = _snapshot(row), before[row.id]
        if after != was:
            changed.append(row)
            for stage, index in STAMPED:
                if was[index] is None and after[index] is not None:
                    stamps.add(row.campaign_id, stage, after[index])
    if changed:
        session.execute(WRITE_BACK, [{"row_id": row.id, **{f"new_{name}": getattr(row, name) for name in CHANGEABLE}}
                                     for row in changed])
    add_deltas(session, deltas)
    stamps.write(session)
    record_billed(session, charges)
    tally.write(session)
    apply_effects(session, effects)
    if events:
        emit_many(session, "message.status", events)
    return unmatched


def _status_event(update_: StatusUpdate, row: RowState) -> dict:
    """What a `message.status` event says (README: "Outbound events")."""
    return {"broadcast_id": row.campaign_id, "recipient_id": row.id, "phone": row.phone, "wamid": update_.wamid,
            "status": update_.status, "at": iso(update_.at),
            "error": {"code": update_.failure.code, "title": update_.failure.title} if update_.failure else None}


def _snapshot(row: RowState) -> tuple:
    return tuple(getattr(row, name) for name in CHANGEABLE)


def _row_for(update_: StatusUpdate, by_id: dict, by_wamid: dict) -> RowState | None:
    row = by_id.get(update_.row_id)
    # The callback id names the row only while the row has no other wamid (it is ours, not a stranger's echo).
    if row is not None and row.wamid in (None, update_.wamid):
        return row
    return by_wamid.get(update_.wamid)


def load_rows(session: Session, ids: set[int], wamids: set[str]) -> list[RowState]:
    """The rows with these ids or wamids, locked (PostgreSQL) in ascending id order.

    Every transaction that locks several recipient rows takes them in one ascending sweep: the dispatcher
    recording its answers does, and two transactions that each hold a row the other waits for would otherwise
    deadlock. One statement locks in its ORDER BY; past one statement's worth, the wamids' ids are found first
    (unlocked) so that the chunks, in id order, lock in id order too."""
    session.flush()  # rows changed through the ORM earlier in this transaction are read as changed
    query = LOAD_ROWS if is_sqlite(session) else LOAD_ROWS_LOCKED
    if len(ids) <= CHUNK and len(wamids) <= CHUNK:
        return [RowState(**row._mapping) for row in session.execute(query, {"ids": sorted(ids),
                                                                             "wamids": sorted(wamids)})]
    wanted_ids = set(ids)
    wamid_list = sorted(wamids)
    for start in range(0, len(wamid_list), CHUNK):
        chunk = wamid_list[start:start + CHUNK]
        wanted_ids.update(session.scalars(select(_table.c.id).where(_table.c.wamid.in_(chunk))))
    id_list = sorted(wanted_ids)
    return [RowState(**row._mapping) for start in range(0, len(id_list), CHUNK)
            for row in session.execute(query, {"ids": id_list[start:start + CHUNK], "wamids": []})]


def add_deltas(session: Session, deltas: dict[int, Counter]) -> None:
    """One counter update per campaign, in campaign and counter-name order (a fixed lock order)."""
    for campaign_id in sorted(deltas):
        add_counts(session, campaign_id, dict(sorted(deltas[campaign_id].items())))

"""Meta's statuses applied to recipient rows, and the statuses that arrived before their row knew its wamid.

A status finds its row by the id our sender put in biz_opaque_callback_data, else by wamid. When neither
finds it — the webhook raced the sender's commit of the wamid, as a quick 131049 failure does — the status
is parked in `unmatched_statuses` and applied as soon as the wamid is committed (apply_parked_statuses),
or by the periodic sweep (apply_stale_parked) should that call have been missed.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from itertools import islice
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import add_counts, report
from webapp.campaigns.models import Recipient
from webapp.timestamps import utcnow
from webapp.transactions import begin_write, is_sqlite
from webapp.contacts import optouts
from webapp.webhooks.models import UnmatchedStatus
from webapp.webhooks.payloads import StatusUpdate, read_status

USER_STOPPED_MARKETING = 131050
CHUNK = 500  # ids per IN (…): well inside every driver's parameter limit
PARKED_KEPT = timedelta(days=7)  # then they are statuses of messages we never sent (the raw event stays)


# What a status can change on a row, and what finding and reporting on it needs besides.
CHANGEABLE = ("status", "reached", "wamid", "claim_token", "sent_at", "delivered_at", "read_at", "replied_at",
              "failed_at", "error_code", "error_title", "error_detail", "pricing_billable", "pricing_category",
              "pricing_model")
COLUMNS = ("id", "campaign_id", "phone", *CHANGEABLE)
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
    unmatched, stopped = [], []
    for update_ in updates:
        row = _row_for(update_, by_id, by_wamid)
        if row is None:
            unmatched.append(update_)
            continue
        deltas[row.campaign_id].update(report(row, update_.status, update_.at, wamid=update_.wamid,
                                              failure=update_.failure))
        by_wamid.setdefault(row.wamid, row)
        if update_.pricing:
            row.pricing_billable = update_.pricing.billable
            row.pricing_category = update_.pricing.category or row.pricing_category
            row.pricing_model = update_.pricing.model or row.pricing_model
        if update_.failure and update_.failure.code == USER_STOPPED_MARKETING:
            stopped.append((row.phone, update_.at))
    changed = [row for row in rows if _snapshot(row) != before[row.id]]
    if changed:
        session.execute(WRITE_BACK, [{"row_id": row.id, **{f"new_{name}": getattr(row, name) for name in CHANGEABLE}}
                                     for row in changed])
    add_deltas(session, deltas)
    for phone, at in sorted(stopped):
        optouts.opt_out(session, phone, at, optouts.STOPPED_MARKETING)
    return unmatched


def _snapshot(row: RowState) -> tuple:
    return tuple(getattr(row, name) for name in CHANGEABLE)


def _row_for(update_: StatusUpdate, by_id: dict, by_wamid: dict) -> RowState | None:
    row = by_id.get(update_.row_id)
    # The callback id names the row only while the row has no other wamid (it is ours, not a stranger's echo).
    if row is not None and row.wamid in (None, update_.wamid):
        return row
    return by_wamid.get(update_.wamid)


def load_rows(session: Session, ids: set[int], wamids: set[str]) -> list[RowState]:
    """The rows with these ids or wamids, locked (PostgreSQL) in id order so that concurrent webhooks
    never deadlock on each other's rows."""
    session.flush()  # rows changed through the ORM earlier in this transaction are read as changed
    query = LOAD_ROWS if is_sqlite(session) else LOAD_ROWS_LOCKED
    found: dict[int, RowState] = {}
    id_list, wamid_list = sorted(ids), sorted(wamids)
    for start in range(0, max(len(id_list), len(wamid_list)), CHUNK):
        rows = session.execute(query, {"ids": id_list[start:start + CHUNK], "wamids": wamid_list[start:start + CHUNK]})
        found.update((row.id, RowState(**row._mapping)) for row in rows)
    return list(found.values())


def add_deltas(session: Session, deltas: dict[int, Counter]) -> None:
    """One counter update per campaign, in campaign and counter-name order (a fixed lock order)."""
    for campaign_id in sorted(deltas):
        add_counts(session, campaign_id, dict(sorted(deltas[campaign_id].items())))


def park(session: Session, updates: list[StatusUpdate]) -> None:
    if updates:
        session.add_all(UnmatchedStatus(wamid=u.wamid[:128], payload=u.raw) for u in updates)


def apply_parked_statuses(session: Session, wamids: list[str]) -> int:
    """Apply the statuses that arrived before these wamids were committed; call right after committing them.

    Returns how many were applied. Runs its own write transaction and commits it; when nothing waits for
    these wamids (the usual case) it only reads, and leaves the session's transaction to the caller.
    """
    wamids = [w for w in wamids if w]
    if not wamids or not _any_parked(session, wamids):
        return 0
    begin_write(session)
    parked = []
    for chunk in _chunks(sorted(set(wamids))):
        query = select(UnmatchedStatus).where(UnmatchedStatus.wamid.in_(chunk))
        parked.extend(session.scalars(_locked(session, query.order_by(UnmatchedStatus.id))))
    applied = _apply_parked(session, parked)
    session.commit()
    return applied


def apply_stale_parked(session: Session, limit: int = 5000) -> int:
    """The periodic sweep: apply parked statuses whose row now carries their wamid, and forget those older
    than a week (statuses of messages we never sent). Commits; returns how many were applied."""
    begin_write(session)
    matched = (select(UnmatchedStatus).join(Recipient, Recipient.wamid == UnmatchedStatus.wamid)
               .order_by(UnmatchedStatus.id).limit(limit))
    applied = _apply_parked(session, list(session.scalars(_locked(session, matched, of=UnmatchedStatus))))
    session.execute(delete(UnmatchedStatus).where(UnmatchedStatus.created_at < utcnow() - PARKED_KEPT))
    session.commit()
    return applied


def _apply_parked(session: Session, parked: list[UnmatchedStatus]) -> int:
    """Apply parked statuses through the same code as live ones; those that found their row are removed."""
    updates = {item.id: read_status(item.payload) for item in parked}
    waiting = {id(u) for u in apply_statuses(session, [u for u in updates.values() if u])}
    done = [item_id for item_id, u in updates.items() if u is None or id(u) not in waiting]
    for chunk in _chunks(done):
        session.execute(delete(UnmatchedStatus).where(UnmatchedStatus.id.in_(chunk)))
    return sum(1 for item_id in done if updates[item_id] is not None)


def _any_parked(session: Session, wamids: list[str]) -> bool:
    return any(session.scalar(select(UnmatchedStatus.id).where(UnmatchedStatus.wamid.in_(chunk)).limit(1))
               for chunk in _chunks(wamids))


def _locked(session: Session, query, of=None):
    return query if is_sqlite(session) else query.with_for_update(of=of)


def _chunks(values, size: int = CHUNK):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk

"""A list as a CSV file, streamed, with every cell safe to open in a spreadsheet and its times in the workspace's
zone."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from webapp.contacts.models import Contact, ListMember
from webapp.spreadsheet import neutralise
from webapp.timestamps import utcnow
from webapp.transactions import is_sqlite
from webapp.workspace.zone import spreadsheet_time, zone_heading

__all__ = ["REJECTION_NOTES", "TIME_COLUMNS", "attribute_keys", "contacts_csv", "csv_stream", "list_csv", "ours"]

BATCH = 2000  # contacts per query and per chunk sent
TIME_COLUMNS = ("opted_out_at", "added_at")  # headed "added_at (America/New_York, UTC−05:00)"
REJECTION_NOTES = ("line", "reason")  # after the file's own columns in its rejected rows (contacts/imports.py)


def ours(headers: list[str]) -> set[int]:
    """The columns of a file that Broadcaster's own files added (an exported list's opt-out and times, the rejected
    rows' line and reason), not the customer's attributes: when such a file is imported again they are not
    taken as attributes unless chosen."""
    found = {index for index, header in enumerate(headers)
             if header == "opted_out" or header.startswith(tuple(f"{column} (" for column in TIME_COLUMNS))}
    if tuple(headers[-2:]) == REJECTION_NOTES:
        found |= {len(headers) - 2, len(headers) - 1}
    return found


def attribute_pairs(session: Session):
    """Each contact's attributes as rows (key, value), to join to contacts: SQLite's json_each, PostgreSQL's
    jsonb_each_text."""
    if is_sqlite(session):
        return func.json_each(Contact.attributes).table_valued("key", "value", name="attribute")
    return func.jsonb_each_text(cast(Contact.attributes, JSONB)).table_valued("key", "value", name="attribute")


def attribute_keys(session: Session, contact_ids: Select) -> list[str]:
    """Every attribute name the contacts `contact_ids` selects have, in the order they were first met."""
    pairs = attribute_pairs(session)
    return list(session.scalars(
        select(pairs.c.key).select_from(Contact).join(pairs, true()).where(Contact.id.in_(contact_ids))
        .group_by(pairs.c.key).order_by(func.min(Contact.id), pairs.c.key)))


def list_csv(session: Session, list_id: int, zone: ZoneInfo) -> Iterator[str]:
    """The list's contacts as CSV: phone, name, one column per attribute, opted out (and when), when added to the
    list."""
    rows = (select(ListMember.contact_id, Contact.phone, Contact.name, Contact.attributes, Contact.opted_out_at,
                   ListMember.added_at)
            .join(Contact, Contact.id == ListMember.contact_id).where(ListMember.list_id == list_id))
    members = select(ListMember.contact_id).where(ListMember.list_id == list_id)
    return _contacts_csv(session, members, rows, ListMember.contact_id, zone)


def contacts_csv(session: Session, contact_ids: Select, zone: ZoneInfo) -> Iterator[str]:
    """The contacts `contact_ids` selects, as a list's CSV (the Contacts page's export): added is when each
    became a contact."""
    rows = select(Contact.id, Contact.phone, Contact.name, Contact.attributes, Contact.opted_out_at,
                  Contact.created_at).where(Contact.id.in_(contact_ids))
    return _contacts_csv(session, contact_ids, rows, Contact.id, zone)


def _contacts_csv(session: Session, contact_ids: Select, rows: Select, order, zone: ZoneInfo) -> Iterator[str]:
    """`rows` (id, phone, name, attributes, opted out at, added at) as CSV in keyset batches on `order`. Times are
    wall-clock times of `zone`; their headers name it with its offsets over the last year (a contact may have
    opted out any time)."""
    keys = attribute_keys(session, contact_ids)
    now = utcnow()
    heading = zone_heading(zone, now - timedelta(days=366), now)

    def lines() -> Iterator[list[str]]:
        after = 0
        while True:
            batch = session.execute(rows.where(order > after).order_by(order).limit(BATCH)).all()
            if not batch:
                return
            for _, phone, name, attributes, opted_out_at, added_at in batch:
                attributes = attributes or {}
                yield [phone, name, *(_text(attributes.get(key)) for key in keys),
                       "yes" if opted_out_at else "no", spreadsheet_time(opted_out_at, zone),
                       spreadsheet_time(added_at, zone)]
            after = batch[-1][0]

    times = [f"{column} ({heading})" for column in TIME_COLUMNS]
    return csv_stream(["phone", "name", *keys, "opted_out", *times], lines())


def csv_stream(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text in pieces of BATCH rows, each cell neutralised; a BOM first, so Excel reads it as UTF-8."""
    yield "\ufeff" + _lines([header])
    batch: list[list[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield _lines(batch)
            batch.clear()
    if batch:
        yield _lines(batch)


def _lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)

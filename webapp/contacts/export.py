"""A list as a CSV file, streamed, with every cell safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from webapp.contacts.models import Contact, ListMember
from webapp.spreadsheet import neutralise
from webapp.transactions import is_sqlite

__all__ = ["attribute_keys", "csv_stream", "list_csv"]

BATCH = 2000  # contacts per query and per chunk sent


def attribute_keys(session: Session, list_id: int) -> list[str]:
    """Every attribute name the list's contacts have, in the order the list first met them."""
    if is_sqlite(session):
        pairs = func.json_each(Contact.attributes).table_valued("key", name="attribute")
    else:
        pairs = func.jsonb_each_text(cast(Contact.attributes, JSONB)).table_valued("key", name="attribute")
    return list(session.scalars(
        select(pairs.c.key).select_from(ListMember).join(Contact, Contact.id == ListMember.contact_id)
        .join(pairs, true()).where(ListMember.list_id == list_id)
        .group_by(pairs.c.key).order_by(func.min(ListMember.contact_id), pairs.c.key)))


def list_csv(session: Session, list_id: int) -> Iterator[str]:
    """The list's contacts as CSV: phone, name, one column per attribute, opted out; in keyset batches."""
    keys = attribute_keys(session, list_id)

    def rows() -> Iterator[list[str]]:
        after = 0
        while True:
            batch = session.execute(
                select(ListMember.contact_id, Contact.phone, Contact.name, Contact.attributes, Contact.opted_out_at)
                .join(Contact, Contact.id == ListMember.contact_id)
                .where(ListMember.list_id == list_id, ListMember.contact_id > after)
                .order_by(ListMember.contact_id).limit(BATCH)).all()
            if not batch:
                return
            for _, phone, name, attributes, opted_out_at in batch:
                attributes = attributes or {}
                yield [phone, name, *(_text(attributes.get(key)) for key in keys),
                       "yes" if opted_out_at else "no"]
            after = batch[-1].contact_id

    return csv_stream(["phone", "name", *keys, "opted_out"], rows())


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

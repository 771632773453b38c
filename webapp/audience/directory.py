"""All contacts, across lists: the Contacts page's search, filters, sort and keyset pages, and the bulk actions on a
selection or on everything a filter matches.

A search and a filter make one SQL condition on `Contact` (the filter through audience/conditions.py); a bulk action
takes the SELECT of the ids it matches, never a list of ids, so "all 200,000 matching" is one statement per table.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from webapp.audience.conditions import compile_filter
from webapp.contacts import optouts, services, tags
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import Contact
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.timestamps import utcnow

PAGE_SIZE = 50
MAX_SELECTED = 500  # ids a selection may name (a page shows PAGE_SIZE); "all matching" has no limit
# The sorts the page offers: their label and the column they order by (ties broken by id).
SORTS = {"name": ("Name", func.lower(Contact.name)), "phone": ("Number", Contact.phone),
         "added": ("Added", Contact.created_at), "updated": ("Last updated", Contact.updated_at)}
# The query string of a search and its filter: what a page link, the bulk form and the export carry along.
FILTER_PARAMS = ("q", "list", "tag", "country", "opted_out", "attribute", "op", "value")


@dataclass(frozen=True)
class Matching:
    """The contacts a search and a filter match: their SQL condition, and the filter's notes ("No contact has the
    tag “vipp”")."""

    where: ColumnElement[bool]
    notes: list[str] = field(default_factory=list)

    def ids(self) -> Select:
        return select(Contact.id).where(self.where)


@dataclass(frozen=True)
class Page:
    contacts: list[Contact]
    next_after: int | None  # the id the next page starts after, when there is one
    previous_before: int | None  # the id the previous page ends before, when there is one


def definition_of(params: Mapping[str, str]) -> dict:
    """The filter the page's fields ask for, as audience/conditions.py reads it (all conditions must hold)."""
    conditions: list[dict] = []
    if params.get("list"):
        conditions.append({"field": "list", "op": "in", "value": params["list"]})
    if (tag := params.get("tag", "").strip()):
        conditions.append({"field": "tag", "op": "has", "value": tag})
    if (country := params.get("country", "").strip()):
        conditions.append({"field": "country", "op": "one_of", "value": country})
    if params.get("opted_out") in ("yes", "no"):
        conditions.append({"field": "opted_out", "op": params["opted_out"]})
    if (name := params.get("attribute", "").strip()):
        conditions.append({"field": "attribute", "name": name, "op": params.get("op") or "equals",
                           "value": params.get("value", "")})
    return {"match": "all", "conditions": conditions}


def matching(session: Session, search: str, definition: Mapping | None, default_country: str) -> Matching:
    """The contacts whose name or number matches `search` and that the filter keeps; FilterError for a bad
    filter."""
    compiled = compile_filter(session, definition)
    return Matching(and_(compiled.where, _search(search, default_country)), compiled.notes)


def _search(text: str, default_country: str) -> ColumnElement[bool]:
    """A name containing the text; or, for digits, the whole number typed any way ("+33 6 12 34 56 78", "06 12 34
    56 78" read with the workspace's country: one index lookup), else three digits or more of it."""
    text = " ".join(text.split())
    if not text:
        return true()
    if re.search(r"[^\d\s+().-]", text):
        return func.lower(Contact.name).contains(text.lower(), autoescape=True)
    try:
        return Contact.phone == normalise(text, default_country).e164
    except (InvalidPhone, ValueError):
        pass
    digits = re.sub(r"\D", "", text).lstrip("0")  # a national number's trunk 0 is not in its E.164 form
    return Contact.phone.contains(digits, autoescape=True) if len(digits) >= 3 else false()


def count(session: Session, matching: Matching) -> int:
    return session.scalar(select(func.count()).select_from(Contact).where(matching.where))


def page(session: Session, matching: Matching, sort: str = "name", descending: bool = False,
         after: int | None = None, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """A page of the matching contacts in the sort's order, starting after the contact `after` (or ending before
    `before`): keyset pagination on (sort value, id), which stays fast and exact on any page."""
    column = SORTS[sort][1] if sort in SORTS else SORTS["name"][1]
    mark = after or before
    cursor = session.execute(select(column, Contact.id).where(Contact.id == mark)).first() if mark else None
    backwards = cursor is not None and after is None
    ascending = descending == backwards  # walking back reverses the order, then the rows are turned round
    query = select(Contact).where(matching.where)
    if cursor is not None:
        value, mark = cursor
        later = or_(column > value, and_(column == value, Contact.id > mark))
        earlier = or_(column < value, and_(column == value, Contact.id < mark))
        query = query.where(later if ascending else earlier)
    order = (column.asc(), Contact.id.asc()) if ascending else (column.desc(), Contact.id.desc())
    rows = list(session.scalars(query.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        return Page(rows, rows[-1].id if rows else None, rows[0].id if more and rows else None)
    return Page(rows, rows[-1].id if more else None, rows[0].id if cursor is not None and rows else None)


def selected(ids: Sequence[str]) -> Select:
    """The contacts a person ticked (ids as the form sent them)."""
    try:
        chosen = sorted({int(value) for value in ids})
    except ValueError:
        raise ContactsError("The selection is not a list of contacts; reload the page and try again.") from None
    if not chosen:
        raise ContactsError("Tick the contacts to change, or choose “all matching the filter”.", field="scope")
    if len(chosen) > MAX_SELECTED:
        raise ContactsError(f"At most {MAX_SELECTED} ticked contacts at a time: choose “all matching the filter”.",
                            field="scope")
    return select(Contact.id).where(Contact.id.in_(chosen))


# --- Bulk actions: each checks everything first, then changes the contacts in a few statements -------------------

def add_to_list(session: Session, contacts: Select, list_id: int | None) -> str:
    added = services.add_members(session, list_id, contacts)
    return f"{added:,} contact{_s(added)} added to the list."


def tag(session: Session, contacts: Select, text: str) -> str:
    names = _tags(text)
    added = tags.add(session, contacts, names)
    return f"Tagged {', '.join(names)}: {added:,} tag{_s(added)} added."


def untag(session: Session, contacts: Select, text: str) -> str:
    names = _tags(text)
    removed = tags.remove(session, contacts, names)
    return f"Untagged {', '.join(names)}: {removed:,} tag{_s(removed)} removed."


def opt_out(session: Session, contacts: Select, reason: str, by: str) -> str:
    """Admins only (the view checks): a reason is required, as it is what the contact's history will say."""
    reason = " ".join(reason.split())
    if not reason:
        raise ContactsError("Say why these contacts are opted out (it is kept in each one's history).",
                            field="reason")
    opted = optouts.opt_out_all(session, contacts, utcnow(), f"{reason} (by {by})")
    them = "it" if opted == 1 else "them"
    return f"{opted:,} contact{_s(opted)} opted out: no marketing campaign will message {them}."


def _tags(text: str) -> list[str]:
    names = tags.names(text or "")
    if not names:
        raise ContactsError("Write the tags, separated by commas.", field="tags")
    return names


def _s(number: int) -> str:
    return "" if number == 1 else "s"

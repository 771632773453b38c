"""Lists, their members and contacts: the rules the pages, the CLI and the import share."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, func, literal, or_, select, true
from sqlalchemy.orm import Session

from webapp.contacts import fields, optouts
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.extensions import db
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import upsert

MAX_LIST_NAME = 120
MEMBERS_PER_PAGE = 50
_SPACES = re.compile(r"\s+")


def sentence(reason: str) -> str:
    """A reason fragment ("the number is too short") as a sentence for a form."""
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


# --- Lists -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListSummary:
    id: int
    name: str
    created_at: datetime
    members: int
    opted_out: int
    public_id: uuid.UUID | None = None


def list_summaries(session: Session) -> list[ListSummary]:
    """Every list with its member and opted-out counts, from one GROUP BY."""
    rows = session.execute(
        select(ContactList.id, ContactList.name, ContactList.created_at,
               func.count(ListMember.contact_id), func.count(Contact.opted_out_at), ContactList.public_id)
        .outerjoin(ListMember, ListMember.list_id == ContactList.id)
        .outerjoin(Contact, Contact.id == ListMember.contact_id)
        .group_by(ContactList.id, ContactList.name, ContactList.created_at, ContactList.public_id)
        .order_by(func.lower(ContactList.name), ContactList.id)).all()
    return [ListSummary(*row) for row in rows]


def list_counts(session: Session, list_id: int) -> tuple[int, int]:
    """(members, opted out) of one list."""
    members, opted_out = session.execute(
        select(func.count(ListMember.contact_id), func.count(Contact.opted_out_at))
        .join(Contact, Contact.id == ListMember.contact_id).where(ListMember.list_id == list_id)).one()
    return members, opted_out


def clean_list_name(name: str) -> str:
    name = _SPACES.sub(" ", name or "").strip()
    if not name:
        raise ContactsError("Give the list a name.", field="name")
    if len(name) > MAX_LIST_NAME:
        raise ContactsError(f"List names have at most {MAX_LIST_NAME} characters.", field="name")
    return name


def _check_name_free(session: Session, name: str, except_id: int | None = None) -> None:
    # Case-insensitive, so "VIP" and "vip" are not two lists that look like one in a menu.
    query = select(ContactList.id).where(func.lower(ContactList.name) == name.lower())
    if except_id is not None:
        query = query.where(ContactList.id != except_id)
    if session.scalar(query) is not None:
        raise ContactsError(f"There is already a list called “{name}”.", field="name", code="conflict")


def find_list(session: Session, name: str) -> ContactList | None:
    return session.scalar(select(ContactList).where(func.lower(ContactList.name) == clean_list_name(name).lower()))


def create_list(session: Session, name: str, user_id: int | None = None) -> ContactList:
    name = clean_list_name(name)
    _check_name_free(session, name)
    contact_list = ContactList(name=name, created_by_id=user_id)
    session.add(contact_list)
    session.flush()
    return contact_list


def free_list_name(session: Session, base: str) -> str:
    """`base`, or "base (2)", "base (3)"… whichever no list has yet."""
    taken = {name.lower() for name in session.scalars(
        select(ContactList.name).where(func.lower(ContactList.name).startswith(base.lower(), autoescape=True)))}
    name, copy = base, 1
    while name.lower() in taken:
        copy += 1
        name = f"{base} ({copy})"
    return name


def rename_list(session: Session, contact_list: ContactList, name: str) -> None:
    name = clean_list_name(name)
    _check_name_free(session, name, except_id=contact_list.id)
    contact_list.name = name


def delete_list(session: Session, contact_list: ContactList) -> None:
    """Delete the list and its memberships; contacts stay, and campaigns keep their recipient rows.

    Launched campaigns copied their audience into recipient rows, which do not point at lists; the
    foreign keys drop the memberships (ON DELETE CASCADE) and unlink past imports (SET NULL).
    """
    session.delete(contact_list)
    session.flush()


# --- Members ---------------------------------------------------------------------------------------

def members_page(session: Session, list_id: int, search: str = "", page: int = 1) -> Pagination:
    """One page of a list's contacts in contact id order (the index order: no sort), filtered by name or number."""
    query = (select(Contact).join(ListMember, ListMember.contact_id == Contact.id)
             .where(ListMember.list_id == list_id).order_by(ListMember.contact_id))
    if (searched := search_condition(search)) is not None:
        query = query.where(searched)
    return db.paginate(query, page=page, per_page=MEMBERS_PER_PAGE, error_out=False)


def search_condition(search: str) -> ColumnElement[bool] | None:
    """Contacts whose name contains the search, or whose number contains its digits (3 or more); None for none."""
    search = _SPACES.sub(" ", search).strip()
    if not search:
        return None
    matches = [func.lower(Contact.name).contains(search.lower(), autoescape=True)]
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 3:  # "(212) 555" finds +1212555…; fewer digits would match nearly everyone
        matches.append(Contact.phone.contains(digits, autoescape=True))
    return or_(*matches)


def add_member(session: Session, contact_list: ContactList, raw_phone: str, name: str,
               default_country: str) -> tuple[Contact, bool]:
    """Add one number by hand, normalised with the default country. Returns (contact, newly added)."""
    try:
        phone = normalise(raw_phone or "", default_country)
    except InvalidPhone as error:
        raise ContactsError(sentence(error.reason), field="phone") from None
    name = _SPACES.sub(" ", name or "").strip()[:200]
    # ON CONFLICT: the number may already be a contact, or become one in a concurrent import.
    session.execute(upsert(session, Contact.__table__).on_conflict_do_nothing(index_elements=["phone"]),
                    [{"phone": phone.e164, "country": phone.region if len(phone.region) == 2 else "",
                      "name": name, "attributes": {}, "opt_out_reason": "", "created_at": utcnow(),
                      "updated_at": utcnow()}])
    contact = session.scalar(select(Contact).where(Contact.phone == phone.e164)
                             .execution_options(populate_existing=True))
    if name and contact.name != name:
        contact.name = name  # someone typed it just now: it is the newest name we know
    added = session.execute(
        upsert(session, ListMember.__table__).on_conflict_do_nothing(index_elements=["list_id", "contact_id"]),
        [{"list_id": contact_list.id, "contact_id": contact.id, "added_at": utcnow()}],
        execution_options={"preserve_rowcount": True}).rowcount
    return contact, bool(added)


def add_members(session: Session, list_id: int | None, contacts: Select) -> int:
    """Put the contacts whose ids `contacts` selects into a list, in one statement whatever their number; how many
    were not in it yet."""
    if list_id is None or session.get(ContactList, list_id) is None:
        raise ContactsError("Choose a list (that one may have been deleted).", field="list_id", code="not_found")
    statement = upsert(session, ListMember.__table__).from_select(
        ["list_id", "contact_id", "added_at"],
        # SQLite reads "ON CONFLICT" after a SELECT without WHERE as a join's ON: the WHERE says where it ends.
        select(literal(list_id), contacts.subquery().c[0], literal(utcnow(), UTCDateTime())).where(true()))
    return session.execute(statement.on_conflict_do_nothing(index_elements=["list_id", "contact_id"])
                           .execution_options(preserve_rowcount=True)).rowcount


def remove_member(session: Session, list_id: int, contact_id: int) -> bool:
    removed = session.execute(db.delete(ListMember).where(ListMember.list_id == list_id,
                                                          ListMember.contact_id == contact_id)).rowcount
    return bool(removed)


# --- Contacts --------------------------------------------------------------------------------------

def lists_of(session: Session, contact: Contact) -> list[ContactList]:
    """The lists a contact is in, by name."""
    return list(session.scalars(select(ContactList).join(ListMember, ListMember.list_id == ContactList.id)
                                .where(ListMember.contact_id == contact.id).order_by(func.lower(ContactList.name))))


MAX_VALUE = 2000  # characters of one attribute value typed on a contact's page


def set_attribute(session: Session, contact: Contact, name: str, value: str) -> str:
    """An admin's change of one of a contact's attributes, kept as written (its type only changes how filters
    compare it: "soon" stays in a date attribute and matches no date comparison); a blank value removes it. The
    name keeps the spelling the contact or the workspace already has. Returns that spelling."""
    name, value = _SPACES.sub(" ", name or "").strip(), (value or "").strip()
    if not name:
        raise ContactsError("Name the attribute.", field="name")
    if len(name) > fields.MAX_NAME:
        raise ContactsError(f"Attribute names have at most {fields.MAX_NAME} characters.", field="name")
    if len(value) > MAX_VALUE:
        raise ContactsError(f"A value has at most {MAX_VALUE:,} characters.", field="value")
    attributes = dict(contact.attributes or {})
    known = fields.known(session).get(fields.key(name))
    spelled = next((key for key in attributes if fields.key(key) == fields.key(name)), known.name if known else name)
    if value:
        attributes[spelled] = value
        fields.remember(session, {spelled: fields.infer([value])})
    elif spelled not in attributes:
        raise ContactsError(f"This contact has no attribute “{name}” to remove.", field="value")
    else:
        del attributes[spelled]
    contact.attributes = attributes
    fields.write(session, [(contact.id, {spelled: value})])
    return spelled


def set_opted_out(session: Session, contact: Contact, opted_out: bool, reason: str = "", by: str = "") -> None:
    """An admin opts a contact out (with why and who) or back in; the webhook rules decide the details."""
    now = utcnow()
    if opted_out:
        reason = _SPACES.sub(" ", reason).strip() or "Opted out by hand"
        optouts.opt_out(session, contact.reported_number, now, f"{reason} (by {by})" if by else reason)
    else:  # every form of the number: a STOP from the other would otherwise come back with Meta's next answer
        # Changes `contact` itself: one object per row.
        optouts.opt_in(session, contact.reported_number, now, f"Opted back in (by {by})" if by else "Opted back in")

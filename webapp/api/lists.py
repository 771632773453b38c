"""What the API does to lists beyond webapp/contacts/services.py: many numbers in one request, each with
its own error, and replacing a list's members. Every number goes through contacts.services.add_member."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.orm import Session

from webapp.api.errors import ApiError
from webapp.contacts import services as contacts
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import ContactList, ListMember
from webapp.extensions import db


@dataclass
class Written:
    added: int = 0
    removed: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)
    kept: set[int] = field(default_factory=set)  # contact ids named by the request


def get(list_id: int) -> ContactList:
    found = db.session.get(ContactList, list_id)
    if found is None:
        raise ApiError("not_found", f"There is no list {list_id}.")
    return found


def add_numbers(session: Session, contact_list: ContactList, items: list, item_errors: Mapping[int, str],
                default_country: str) -> Written:
    """Add each number (a string, or {phone_number, name}); a bad one is reported by its index, the rest added."""
    written = Written()
    for index, item in enumerate(items):
        if index in item_errors:
            written.errors.append({"index": index, "recipient": item, "reason": item_errors[index]})
            continue
        raw, name = (item, "") if isinstance(item, str) else (item["phone_number"], item.get("name", ""))
        try:
            contact, added = contacts.add_member(session, contact_list, raw, name, default_country)
        except ContactsError as error:
            written.errors.append({"index": index, "recipient": item, "reason": error.message})
            continue
        if added:
            written.added += 1
        else:
            written.duplicates += 1
        written.kept.add(contact.id)
    return written


def replace_numbers(session: Session, contact_list: ContactList, items: list, item_errors: Mapping[int, str],
                    default_country: str) -> Written:
    """Make the list's members exactly the valid numbers given: add the new ones, take out the others."""
    written = add_numbers(session, contact_list, items, item_errors, default_country)
    leaving = delete(ListMember).where(ListMember.list_id == contact_list.id)
    if written.kept:
        leaving = leaving.where(ListMember.contact_id.not_in(written.kept))
    written.removed = session.execute(leaving.execution_options(synchronize_session=False)).rowcount
    return written

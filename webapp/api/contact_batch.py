"""Contacts created or updated through the API, up to 1,000 a request, each with its own result: its number
normalised, its name, attributes (merged into the contact's, and written for filters through contacts/fields.py),
tags (contacts/tags.py) and lists. A bad item changes nothing of its own and is reported by index; the others are
applied. An opted-out contact stays opted out: nothing here opts anyone back in.

Attributes merge: a name the contact has (whatever its case) takes the new value under the contact's spelling, a new
name is added, and a blank value (`""` or null) removes the attribute. Tags and lists are added, never taken away.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from phonenumbers import SUPPORTED_REGIONS
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from webapp.contacts import fields, tags
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.services import sentence
from webapp.timestamps import utcnow
from webapp.transactions import upsert


@dataclass
class Item:
    """One valid item of the request, ready to write."""

    index: int
    phone: str
    country: str
    name: str | None                 # None: not given, the contact keeps its name
    attributes: dict[str, str]       # as given, values as text ("" removes)
    tags: list[str]
    lists: list[int]
    contact_id: int = 0
    created: bool = False


@dataclass
class Batch:
    results: list[dict] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result["status"] == status)

    def error(self, index: int, code: str, message: str) -> None:
        self.results.append({"index": index, "status": "error", "id": None, "phone_number": None,
                             "error": {"code": code, "message": message}})


def text(value) -> str:
    """An attribute value as contacts keep them: text; a whole float without its ".0", a boolean as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def save(session: Session, items: list, item_errors: Mapping[int, str], default_country: str) -> Batch:
    """Create or update the contacts of one request (the caller commits)."""
    batch = Batch()
    valid = _checked(session, items, item_errors, default_country, batch)
    if valid:
        _write_contacts(session, valid)
        _write_attributes(session, valid, month_first=default_country in fields.MONTH_FIRST)
        _write_tags(session, valid)
        _write_lists(session, valid)
        for item in valid:
            batch.results.append({"index": item.index, "status": "created" if item.created else "updated",
                                  "id": item.contact_id, "phone_number": item.phone, "error": None})
    batch.results.sort(key=lambda result: result["index"])
    return batch


def _checked(session: Session, items: list, item_errors: Mapping[int, str], default_country: str,
             batch: Batch) -> list[Item]:
    """The items that can be applied; the others are reported in `batch`."""
    wanted_lists = {list_id for index, item in enumerate(items) if index not in item_errors
                    for list_id in item.get("lists") or []}
    existing_lists = set(session.scalars(select(ContactList.id).where(ContactList.id.in_(wanted_lists))))
    first_at: dict[str, int] = {}
    valid = []
    for index, item in enumerate(items):
        if index in item_errors:
            batch.error(index, "invalid", item_errors[index])
            continue
        country = (item.get("country") or default_country).upper()
        if problem := country_problem(country):
            batch.error(index, "invalid", problem)
            continue
        try:
            phone = normalise(item["phone_number"], country)
        except InvalidPhone as error:
            batch.error(index, "invalid", f"phone_number: {sentence(error.reason)}")
            continue
        if phone.e164 in first_at:
            batch.error(index, "duplicate", f"{phone.e164} is also at index {first_at[phone.e164]} of this "
                                            "request; give each number once.")
            continue
        missing = [list_id for list_id in item.get("lists") or [] if list_id not in existing_lists]
        if missing:
            batch.error(index, "not_found", f"lists: there is no list {', '.join(map(str, missing))}.")
            continue
        try:
            labels = tags.names(item.get("tags") or [])
        except ContactsError as error:
            batch.error(index, "invalid", f"tags: {error.message}")
            continue
        attributes = {name.strip(): text(value) for name, value in (item.get("attributes") or {}).items()}
        if problem := _attribute_problem(attributes):
            batch.error(index, "invalid", f"attributes: {problem}")
            continue
        first_at[phone.e164] = index
        valid.append(Item(index, phone.e164, phone.region if len(phone.region) == 2 else "",
                          " ".join(item["name"].split())[:200] if "name" in item else None, attributes, labels,
                          list(dict.fromkeys(item.get("lists") or []))))
    return valid


def country_problem(country: str) -> str | None:
    if country.upper() in SUPPORTED_REGIONS:
        return None
    return f"country: {country} is not a country code (two letters, like FR or BR)."


def _attribute_problem(attributes: Mapping[str, str]) -> str | None:
    spelled: dict[str, str] = {}
    for name in attributes:
        if not name:
            return "an attribute needs a name."
        if len(name) > fields.MAX_NAME:
            return f"an attribute name has at most {fields.MAX_NAME} characters."
        if (other := spelled.setdefault(fields.key(name), name)) != name:
            return f"“{other}” and “{name}” are one attribute (names are one whatever their case); give it once."
    return None


def _write_contacts(session: Session, valid: list[Item]) -> None:
    """Insert the new numbers (a concurrent request may insert one first: then it is ours to update), then set
    names and merge attributes, in one UPDATE statement run for every contact that changes."""
    now = utcnow()
    table = Contact.__table__
    inserted = set(session.scalars(
        upsert(session, table).on_conflict_do_nothing(index_elements=["phone"]).returning(table.c.phone),
        [{"phone": item.phone, "country": item.country, "name": "", "attributes": {}, "opt_out_reason": "",
          "created_at": now, "updated_at": now} for item in valid]))
    found = {row.phone: row for row in session.execute(
        select(table.c.id, table.c.phone, table.c.name, table.c.attributes)
        .where(table.c.phone.in_([item.phone for item in valid])))}
    changes = []
    for item in valid:
        row = found[item.phone]
        item.contact_id, item.created = row.id, item.phone in inserted
        name = row.name if item.name is None else item.name
        attributes = merge(row.attributes or {}, item.attributes)
        if name != row.name or attributes != (row.attributes or {}):
            changes.append({"contact": row.id, "new_name": name, "new_attributes": attributes})
    if changes:
        session.execute(update(table).where(table.c.id == bindparam("contact"))
                        .values(name=bindparam("new_name"), attributes=bindparam("new_attributes"), updated_at=now),
                        changes)


def merge(current: Mapping[str, str], given: Mapping[str, str]) -> dict[str, str]:
    """The attributes after `given`: same name whatever its case keeps the contact's spelling; blank removes."""
    merged = dict(current)
    spelling = {fields.key(name): name for name in merged}
    for name, value in given.items():
        name = spelling.get(fields.key(name), name)
        if value:
            merged[name] = value
        else:
            merged.pop(name, None)
    return merged


def _write_attributes(session: Session, valid: list[Item], month_first: bool) -> None:
    """The values as filters read them, and the types of names the workspace did not know yet (guessed from every
    value this request gives them)."""
    given = [(item.contact_id, item.attributes) for item in valid if item.attributes]
    if not given:
        return
    values: dict[str, list[str]] = defaultdict(list)
    spelling: dict[str, str] = {}
    for _, attributes in given:
        for name, value in attributes.items():
            values[spelling.setdefault(fields.key(name), name)].append(value)
    fields.remember(session, {name: fields.infer(found) for name, found in values.items() if any(found)})
    fields.write(session, given, month_first=month_first)


def _write_tags(session: Session, valid: list[Item]) -> None:
    """One statement per tag: the contacts of the batch that get it."""
    by_tag: dict[str, tuple[str, list[int]]] = {}
    for item in valid:
        for name in item.tags:
            by_tag.setdefault(name.casefold(), (name, []))[1].append(item.contact_id)
    for name, contact_ids in by_tag.values():
        tags.add(session, select(Contact.id).where(Contact.id.in_(contact_ids)), [name])


def _write_lists(session: Session, valid: list[Item]) -> None:
    rows = [{"list_id": list_id, "contact_id": item.contact_id, "added_at": utcnow()}
            for item in valid for list_id in item.lists]
    if rows:
        session.execute(upsert(session, ListMember.__table__)
                        .on_conflict_do_nothing(index_elements=["list_id", "contact_id"]), rows)

"""Contacts as the API speaks of them: every contact, filtered (by name or number, list, tag, country, opt-out, or
any filter a segment could hold — webapp/audience/conditions.py) a keyset page at a time; one contact with its
attributes, tags and lists; batches of contacts created or updated (contact_batch.py); tags on a contact, and the
tags in use."""
from __future__ import annotations

import base64
import binascii
import json

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from webapp.api import contact_batch, lists
from webapp.api.blueprint import api
from webapp.api.errors import ApiError
from webapp.api.routing import Call
from webapp.audience.conditions import compile_filter
from webapp.audience.errors import FilterError
from webapp.contacts import tags
from webapp.contacts.models import Contact, ContactList, ContactTag, ListMember, Tag
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.services import search_condition
from webapp.extensions import db
from webapp.timestamps import iso
from webapp.url_numbers import LARGEST_ID
from webapp.workspace.models import WorkspaceSettings

PER_PAGE = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}


def default_country() -> str:
    return WorkspaceSettings.get().default_country


def find(ref: str | int) -> Contact:
    """A contact by id (an integer, or digits in a path), or by phone number in any written form (E.164 is safest)."""
    if isinstance(ref, str) and ref.isascii() and ref.isdigit() and int(ref) <= LARGEST_ID:
        ref = int(ref)
    if isinstance(ref, int):
        found = db.session.get(Contact, ref)
        if found is None:
            raise ApiError("not_found", f"There is no contact {ref}.")
        return found
    try:
        phone, why = normalise(ref, default_country()).e164, ""
    except InvalidPhone as error:  # a contact may still have it, as Meta reported it: look it up as written
        phone, why = ref.strip(), f" ({error.reason})"
    found = db.session.scalar(select(Contact).where(Contact.phone == phone))
    if found is None:
        raise ApiError("not_found", f"{phone} is not a contact{why}: it becomes one when it writes to us, is "
                                    "added to a list or is created with POST /contacts.")
    return found


# --- The payload ---------------------------------------------------------------------------------------------

def payloads(session: Session, found: list[Contact]) -> list[dict]:
    """Contacts as the API shows them, their tags and lists read in two queries for the whole page."""
    ids = [contact.id for contact in found]
    tagged: dict[int, list[str]] = {}
    for contact_id, name in session.execute(select(ContactTag.contact_id, Tag.name)
                                            .join(Tag, Tag.id == ContactTag.tag_id)
                                            .where(ContactTag.contact_id.in_(ids)).order_by(Tag.key)):
        tagged.setdefault(contact_id, []).append(name)
    listed: dict[int, list[dict]] = {}
    for contact_id, list_id, name in session.execute(
            select(ListMember.contact_id, ContactList.id, ContactList.name)
            .join(ContactList, ContactList.id == ListMember.list_id)
            .where(ListMember.contact_id.in_(ids)).order_by(ContactList.name)):
        listed.setdefault(contact_id, []).append({"id": list_id, "name": name})
    return [{"id": contact.id, "uuid": str(contact.public_id), "phone_number": contact.phone, "name": contact.name or "",
             "country": contact.country or "", "attributes": contact.attributes or {},
             "tags": tagged.get(contact.id, []), "lists": listed.get(contact.id, []),
             "opted_out": contact.opted_out_at is not None, "opted_out_at": iso(contact.opted_out_at),
             "created_at": iso(contact.created_at), "updated_at": iso(contact.updated_at)} for contact in found]


def one(contact: Contact) -> dict:
    return {"data": payloads(db.session, [contact])[0]}


# --- Every contact, filtered ---------------------------------------------------------------------------------

def encode_cursor(contact_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{contact_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw[:1] == "c" and raw[1:].isdigit() and int(raw[1:]) <= LARGEST_ID:
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError("invalid_request", "cursor is not one this API gave: pass `meta.next_cursor` as it came.",
                   [{"field": "cursor", "message": "not a cursor of this API"}])


# The simple filters, each one condition of the filter language.
SIMPLE = {
    "list_id": lambda value: {"field": "list", "op": "in", "value": value},
    "tag": lambda value: {"field": "tag", "op": "has", "value": value},
    "country": lambda value: {"field": "country", "op": "one_of", "value": [value]},
    "opted_out": lambda value: {"field": "opted_out", "op": value},
}


def matching(query: dict):
    """The contacts the query's filters select (ANDed), and the notes of its filters ("No contact has the tag
    vip.")."""
    if "list_id" in query:
        lists.get(query["list_id"])  # a list that does not exist is a 404, as everywhere else
    given = [name for name in SIMPLE if name in query]
    try:
        simple = compile_filter(db.session, {"match": "all",
                                             "conditions": [SIMPLE[name](query[name]) for name in given]})
    except FilterError as error:
        name = given[error.condition or 0]
        raise ApiError("invalid_request", f"{name}: {error.message.split(': ', 1)[-1]}",
                       [{"field": name, "message": error.message}]) from None
    clauses, notes = [simple.where], list(simple.notes)
    if "filter" in query:
        compiled = compile_filter(db.session, _definition(query["filter"]))
        clauses.append(compiled.where)
        notes += compiled.notes
    if (searched := search_condition(query.get("q", ""))) is not None:
        clauses.append(searched)
    return and_(*clauses), notes


def _definition(text: str) -> dict:
    try:
        definition = json.loads(text)
    except ValueError as error:
        raise ApiError("invalid_request", f"filter is not valid JSON: {error}.",
                       [{"field": "filter", "message": "not valid JSON"}]) from None
    if not isinstance(definition, dict):
        raise ApiError("invalid_request", "filter is a JSON object: {\"match\": \"all\", \"conditions\": [...]}.",
                       [{"field": "filter", "message": "not a JSON object"}])
    return definition


@api.route("GET", "/contacts", tag="Contacts", scope="contacts:read", response="ContactPage", errors=(404, 422),
           summary="Every contact, filtered, a keyset page at a time",
           query={"q": {"type": "string", "maxLength": 100, "description": "Part of a name, or 3+ digits of a "
                                                                           "number."},
                  "list_id": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID,
                              "description": "Only the members of this list."},
                  "tag": {"type": "string", "maxLength": 60, "description": "Only contacts with this tag."},
                  "country": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                              "description": "Only numbers of this country (ISO 3166 code, e.g. FR)."},
                  "opted_out": {"type": "string", "enum": ["yes", "no"]},
                  "filter": {"type": "string", "maxLength": 20000,
                             "description": "A segment's definition as JSON (URL-encoded): {\"match\": \"all\" or "
                                            "\"any\", \"conditions\": [...]}, as POST /segments takes it."},
                  "cursor": {"type": "string", "maxLength": 64, "description": "The `next_cursor` of the page "
                                                                              "before."},
                  "per_page": PER_PAGE})
def list_contacts(call: Call):
    """Oldest first; follow `meta.next_cursor` until it is null. Every filter given must match. A filter on an
    attribute or tag nobody has matches nobody and says so in `meta.notes`; a bad condition of `filter` is 422
    with its index in `details.condition`."""
    query = call.query
    where, notes = matching(query)
    after = decode_cursor(query["cursor"]) if "cursor" in query else 0
    size = query["per_page"]
    found = list(db.session.scalars(select(Contact).where(where, Contact.id > after)
                                    .order_by(Contact.id).limit(size + 1)))
    more = len(found) > size
    found = found[:size]
    return {"data": payloads(db.session, found),
            "meta": {"per_page": size, "next_cursor": encode_cursor(found[-1].id) if more else None,
                     "notes": notes}}


@api.route("GET", "/contacts/<contact>", tag="Contacts", scope="contacts:read", response="ContactOne",
           errors=(404,), summary="One contact, with its attributes, tags and lists")
def get_contact(call: Call, contact: str):
    """`contact` is its id, or its phone number starting with `+` (E.164; `%2B` in a URL)."""
    return one(find(contact))


@api.route("POST", "/contacts", tag="Contacts", scope="contacts:write", response="ContactsWritten",
           body="ContactsSave", items="contacts", summary="Create or update up to 1,000 contacts")
def save_contacts(call: Call):
    """Each contact is found by its number (normalised with its `country`, the request's, or the workspace's
    default country) and created when new. `name` replaces the contact's; `attributes` are merged in (a name
    the contact has, in any case, takes the new value; `""` or null removes it); `tags` and `lists` are added.
    Each item has its own result — `created`, `updated`, or `error` with a `code` (invalid, duplicate, not_found)
    and a message — and a bad item changes nothing while the others are applied. An opted-out contact stays
    opted out. More than 1,000 items is refused whole (413)."""
    body = call.body
    country = (body.get("country") or default_country()).upper()
    if problem := contact_batch.country_problem(country):
        raise ApiError("invalid_request", problem, [{"field": "country", "message": "not a country code"}])
    batch = contact_batch.save(db.session, body["contacts"], call.item_errors, country)
    db.session.commit()
    return {"data": {"created": batch.count("created"), "updated": batch.count("updated"),
                     "errors": batch.count("error"), "results": batch.results}}


# --- Tags --------------------------------------------------------------------------------------------------------

@api.route("POST", "/contacts/<contact>/tags", tag="Contacts", scope="contacts:write", response="ContactOne",
           body="TagsAdd", errors=(404, 422), summary="Tag a contact")
def tag_contact(call: Call, contact: str):
    """Tags are one whatever their case; a new one is created with the spelling given. Answers the contact."""
    found = find(contact)
    tags.add(db.session, select(Contact.id).where(Contact.id == found.id), tags.names(call.body["tags"]))
    db.session.commit()
    return one(found)


@api.route("DELETE", "/contacts/<contact>/tags/<tag>", tag="Contacts", scope="contacts:write",
           response="ContactOne", errors=(404,), summary="Take a tag off a contact")
def untag_contact(call: Call, contact: str, tag: str):
    """404 when the contact does not have the tag (in any case). The tag itself stays: segments may name it."""
    found = find(contact)
    if not tags.remove(db.session, select(Contact.id).where(Contact.id == found.id), [" ".join(tag.split())]):
        raise ApiError("not_found", f"{found.phone} does not have the tag “{tag}”.")
    db.session.commit()
    return one(found)


@api.route("GET", "/tags", tag="Contacts", scope="contacts:read", response="TagList",
           summary="Every tag, with how many contacts have it")
def list_tags(call: Call):
    """By name; a tag nobody has any more is listed with 0."""
    return {"data": [{"id": tag.id, "name": tag.name, "contact_count": count}
                     for tag, count in tags.in_use(db.session)]}

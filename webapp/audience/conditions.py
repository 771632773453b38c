"""A filter over all contacts — conditions on attributes, tags, lists, opt-out, country and behaviour, combined
with all/any — checked and turned into one SQL condition on `Contact`. The Contacts page, segments, the API and a
campaign's audience all read filters through here.

A definition is plain JSON, as the builder posts it and the API takes it::

    {"match": "all", "conditions": [
        {"field": "attribute", "name": "city", "op": "equals", "value": "Lyon"},
        {"field": "tag", "op": "has", "value": "vip"},
        {"field": "received", "op": "not_within_days", "value": 7}]}

Each condition becomes `Contact.id IN (SELECT contact_id …)` over an indexed table (contact_values, contact_tags,
list_members, recipients, conversations), so a count is index work, not a scan of contacts in Python.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from phonenumbers import SUPPORTED_REGIONS
from sqlalchemy import ColumnElement, and_, false, or_, select, text, true
from sqlalchemy.orm import Session

from webapp.audience.errors import FilterError
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts import fields
from webapp.contacts.models import (ATTRIBUTE_TYPES, AttributeField, Contact, ContactList, ContactTag, ContactValue,
                                    ListMember, Tag)
from webapp.inbox.models import Conversation
from webapp.timestamps import utcnow
from webapp.transactions import is_sqlite

MAX_CONDITIONS = 20
CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
MAX_DAYS = 3650

# What each attribute type can be compared with, and how the builder says it.
ATTRIBUTE_OPS = {
    "text": {"equals": "is", "not_equals": "is not", "contains": "contains", "one_of": "is one of",
             "is_empty": "is empty", "is_not_empty": "is not empty"},
    "number": {"equals": "equals", "greater_than": "is greater than", "less_than": "is less than",
               "is_empty": "is empty", "is_not_empty": "is not empty"},
    "date": {"on": "is on", "before": "is before", "after": "is after",
             "is_empty": "is empty", "is_not_empty": "is not empty"},
    "yes_no": {"is_yes": "is yes", "is_no": "is no", "is_empty": "is empty", "is_not_empty": "is not empty"},
}
# The other fields: their operators, in the builder's words.
FIELD_OPS = {
    "tag": {"has": "has tag", "has_not": "does not have tag"},
    "list": {"in": "is in list", "not_in": "is not in list"},
    "opted_out": {"yes": "has opted out", "no": "has not opted out"},
    "country": {"one_of": "country is one of", "not_one_of": "country is not one of"},
    "received": {"within_days": "received a campaign in the last … days",
                 "not_within_days": "received no campaign in the last … days"},
    "replied": {"within_days": "replied in the last … days", "not_within_days": "did not reply in the last … days"},
    "read": {"never": "never read a campaign (received at least one)"},
    "failed": {"with_code": "a campaign message failed with error …", "any": "a campaign message failed"},
    "clicked": {"within_days": "clicked a campaign's link in the last … days",
                "not_within_days": "clicked no campaign's link in the last … days",
                "in_campaign": "clicked a link of campaign number …"},
}
FIELDS = ("attribute", *FIELD_OPS)


@dataclass
class Compiled:
    """A checked filter: its SQL condition, the definition as normalised (what a segment saves), and notes that
    are not errors ("No contact has an attribute “shoe size”: this condition matches nobody")."""

    where: ColumnElement[bool]
    definition: dict
    notes: list[str] = field(default_factory=list)


def compile_filter(session: Session, definition: Mapping | None, after: int = 0, upto: int | None = None) -> Compiled:
    """Check a definition and build its condition; FilterError names the first bad condition. No condition at all
    is every contact. `after` (and `upto`): only contacts past this id (and up to that one) will be asked for (a
    launch reads them in id order, a chunk at a time); each subquery is told too, so the database starts its index
    scans there (and stops them)."""
    definition = definition or {}
    if not isinstance(definition, Mapping):
        raise FilterError("A filter is an object with “match” and “conditions”.")
    match = definition.get("match", "all")
    if match not in ("all", "any"):
        raise FilterError("“match” is “all” or “any”.")
    conditions = definition.get("conditions") or []
    if not isinstance(conditions, list):
        raise FilterError("“conditions” is a list.")
    if len(conditions) > MAX_CONDITIONS:
        raise FilterError(f"A filter has at most {MAX_CONDITIONS} conditions.")
    context = _Context(session, after, upto)
    clauses, normalised = [], []
    for index, condition in enumerate(conditions):
        try:
            clause, clean = _condition(context, condition)
        except FilterError as error:
            raise FilterError(f"Condition {index + 1}: {error.message}", index, error.code) from None
        clauses.append(clause)
        normalised.append(clean)
    where = true() if not clauses else and_(*clauses) if match == "all" else or_(*clauses)
    if clauses and upto is None and not is_sqlite(session):
        # Plan the filter's statements for its values, in the rest of this transaction. psycopg prepares a statement
        # run five times on a connection, and PostgreSQL then plans it once for any values: "city is Lyon" as if
        # a city were any attribute's value, a third of its rows (a count 1.9× the CPU, p95 438 ms against 246 at
        # a million contacts: docs/benchmarks.md, "Segment counts and PostgreSQL's generic plans"). Not for a
        # launch's chunks (`upto`): their one plan for every chunk served them better (73 against 137 µs a row).
        session.execute(CUSTOM_PLANS)
    return Compiled(where, {"match": match, "conditions": normalised}, context.notes)


def describe(session: Session, definition: Mapping) -> list[str]:
    """Each condition of a (normalised) definition in words, for the campaign page and the segments list."""
    conditions = definition.get("conditions") or []
    named = {condition.get("value") for condition in conditions if condition.get("field") == "list"}
    lists = dict(session.execute(select(ContactList.id, ContactList.name)
                                 .where(ContactList.id.in_(named))).all()) if named else {}
    words = []
    for condition in conditions:
        kind, op, value = condition.get("field"), condition.get("op"), condition.get("value")
        if kind == "attribute":
            said = ATTRIBUTE_OPS.get(condition.get("type", "text"), {}).get(op, op)
            words.append(f"{condition.get('name')} {said}" + ("" if op.startswith("is_") else f" {_shown(value)}"))
        elif kind == "list":
            words.append(f"{FIELD_OPS['list'][op]} “{lists.get(value, 'a deleted list')}”")
        else:  # a label with "…" takes its value there ("in the last 7 days"), else after it, if it has one
            label = FIELD_OPS[kind][op]
            words.append(label.replace("…", str(value)) if "…" in label
                         else label if value is None else f"{label} {_shown(value)}")
    return words


def _shown(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else f"“{value}”"


class _Context:
    """What compiling one filter reads once: the workspace's attribute types and tags."""

    def __init__(self, session: Session, after: int = 0, upto: int | None = None) -> None:
        self.session = session
        self.after = after
        self.upto = upto
        self.notes: list[str] = []
        self._fields: dict[str, AttributeField] | None = None

    def field(self, name: str) -> AttributeField | None:
        if self._fields is None:
            self._fields = fields.known(self.session)
        return self._fields.get(fields.key(name))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _condition(context: _Context, condition) -> tuple[ColumnElement[bool], dict]:
    if not isinstance(condition, Mapping):
        raise FilterError("a condition is an object with “field”, “op” and “value”.")
    kind, op = condition.get("field"), condition.get("op")
    if kind not in FIELDS:
        raise FilterError(f"“{kind}” is not a field: use {', '.join(FIELDS)}.")
    if kind == "attribute":
        return _attribute(context, condition)
    if op not in FIELD_OPS[kind]:
        raise FilterError(f"“{op}” does not apply to {kind}: use {', '.join(FIELD_OPS[kind])}.")
    clause, value = _BUILDERS[kind](context, op, condition.get("value"))
    clean = {"field": kind, "op": op} | ({"value": value} if value is not None else {})
    return clause, clean


def _in(context: _Context, column, *where) -> ColumnElement[bool]:
    """Contacts with a row in `column`'s table matching `where`: a semi-join."""
    return Contact.id.in_(select(column).where(*where, *_past(context, column)))


def _not_in(context: _Context, column, *where) -> ColumnElement[bool]:
    """Contacts with no such row: NOT EXISTS, which PostgreSQL runs as an anti-join (NOT IN could not be, and
    would match nobody once the subquery met a NULL, as a recipient whose contact was deleted has)."""
    return ~select(column).where(column == Contact.id, *where, *_past(context, column)).exists()


def _past(context: _Context, column) -> tuple:
    """`column > after` (and `<= upto`) when only contacts past an id (up to another) are asked for: the same rows,
    but PostgreSQL does not carry a range from one side of a join to the other, and would read each subquery from
    its first contact (to its last)."""
    return ((column > context.after,) if context.after else ()) + \
        ((column <= context.upto,) if context.upto is not None else ())


# --- Attributes --------------------------------------------------------------------------------------------------

def _attribute(context: _Context, condition: Mapping) -> tuple[ColumnElement[bool], dict]:
    name = str(condition.get("name") or "").strip()
    if not name:
        raise FilterError("choose an attribute.")
    known = context.field(name)
    kind = known.type if known else "text"
    op = condition.get("op")
    ops = ATTRIBUTE_OPS[kind]
    if op not in ops:
        said = ", ".join(ops.values())
        raise FilterError(f"“{known.name if known else name}” is {_a(kind)}: it can be compared with {said}.")
    has = ContactValue.key == fields.key(name)
    clean = {"field": "attribute", "name": known.name if known else name, "type": kind, "op": op}
    if known is None:
        context.note(f"No contact has an attribute “{name}”: a condition on it matches "
                     + ("every contact." if op == "is_empty" else "nobody." if op != "not_equals"
                        else "every contact."))
    if op == "is_empty":
        return _not_in(context, ContactValue.contact_id, has), clean
    if op == "is_not_empty":
        return _in(context, ContactValue.contact_id, has), clean
    value, test = _ATTRIBUTE_TESTS[kind](op, condition.get("value"), known.name if known else name)
    if value is not None:
        clean["value"] = value
    if op == "not_equals":
        return _not_in(context, ContactValue.contact_id, has, test), clean
    return _in(context, ContactValue.contact_id, has, test), clean


def _a(kind: str) -> str:
    return {"text": "a text", "number": "a number", "date": "a date", "yes_no": "a yes/no"}[kind]


def _text_test(op: str, value, name: str):
    if op == "one_of":
        items = value if isinstance(value, list) else str(value or "").split(",")
        items = [str(item).strip() for item in items if str(item).strip()]
        if not items:
            raise FilterError(f"give the values of “{name}” to match, separated by commas.")
        return items, ContactValue.as_text.in_([item.casefold()[:fields.MAX_TEXT] for item in items])
    text = _given(value, name)
    folded = text.casefold()
    if op == "contains":
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return text, ContactValue.as_text.like(f"%{escaped}%", escape="\\")
    return text, ContactValue.as_text == folded[:fields.MAX_TEXT]


def _given(value, name: str) -> str:
    text = str(value if value is not None else "").strip()
    if not text:
        raise FilterError(f"give a value for “{name}” (or choose “is empty”).")
    return text


def _number_test(op: str, value, name: str):
    number = fields.as_number(_given(value, name))
    if number is None:
        raise FilterError(f"“{name}” is a number; “{value}” is not a number.")
    column = ContactValue.as_number
    test = {"equals": column == number, "greater_than": column > number, "less_than": column < number}[op]
    return number, test


def _date_test(op: str, value, name: str):
    day = fields.as_date(_given(value, name))
    if day is None:
        raise FilterError(f"“{name}” is a date; “{value}” is not a date we can read: write it as 2026-03-31.")
    column = ContactValue.as_date
    return day.isoformat(), {"on": column == day, "before": column < day, "after": column > day}[op]


def _flag_test(op: str, value, name: str):
    return None, ContactValue.as_flag.is_(op == "is_yes")


_ATTRIBUTE_TESTS: dict[str, Callable] = {"text": _text_test, "number": _number_test, "date": _date_test,
                                         "yes_no": _flag_test}


# --- Tags, lists, opt-out, country ---------------------------------------------------------------------------------

def _tag(context: _Context, op: str, value):
    name = str(value or "").strip()
    if not name:
        raise FilterError("choose a tag.")
    tag = context.session.scalar(select(Tag).where(Tag.key == fields.key(name)))
    if tag is None:
        context.note(f"No contact has the tag “{name}”.")
        return (false() if op == "has" else true()), name
    tagged = ContactTag.tag_id == tag.id
    return (_in(context, ContactTag.contact_id, tagged) if op == "has"
            else _not_in(context, ContactTag.contact_id, tagged)), tag.name


def _list(context: _Context, op: str, value):
    try:
        list_id = int(value)
    except (TypeError, ValueError):
        raise FilterError("choose a list.") from None
    if context.session.get(ContactList, list_id) is None:
        raise FilterError("that list does not exist (it may have been deleted).", code="not_found")
    member = ListMember.list_id == list_id
    return (_in(context, ListMember.contact_id, member) if op == "in"
            else _not_in(context, ListMember.contact_id, member)), list_id


def _opted_out(context: _Context, op: str, value):
    stopped = Contact.opted_out_at.is_not(None)
    return (stopped if op == "yes" else ~stopped), None


def _country(context: _Context, op: str, value):
    items = value if isinstance(value, list) else str(value or "").split(",")
    codes = sorted({str(item).strip().upper() for item in items if str(item).strip()})
    unknown = [code for code in codes if code not in SUPPORTED_REGIONS]
    if not codes:
        raise FilterError("choose at least one country.")
    if unknown:
        raise FilterError(f"{', '.join(unknown)}: not a country code (two letters, like FR or BR).")
    where = Contact.country.in_(codes)
    return (where if op == "one_of" else ~where), codes


# --- Behaviour -----------------------------------------------------------------------------------------------------

def _days(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise FilterError("give a number of days.") from None
    if not 1 <= days <= MAX_DAYS:
        raise FilterError(f"the number of days is between 1 and {MAX_DAYS}.")
    return days


def _received(context: _Context, op: str, value):
    days = _days(value)
    recent = Recipient.accepted_at >= utcnow() - timedelta(days=days)
    return (_in(context, Recipient.contact_id, recent) if op == "within_days"
            else _not_in(context, Recipient.contact_id, recent)), days


def _replied(context: _Context, op: str, value):
    days = _days(value)
    recent = Conversation.last_customer_message_at >= utcnow() - timedelta(days=days)
    return (_in(context, Conversation.contact_id, recent) if op == "within_days"
            else _not_in(context, Conversation.contact_id, recent)), days


def _never_read(context: _Context, op: str, value):
    received, read = Recipient.reached >= 1, Recipient.reached >= 4
    return and_(_in(context, Recipient.contact_id, received), _not_in(context, Recipient.contact_id, read)), None


def _failed(context: _Context, op: str, value):
    failed = Recipient.status == "failed"
    if op == "any":
        return _in(context, Recipient.contact_id, failed), None
    try:
        code = int(str(value).strip())
    except (TypeError, ValueError):
        raise FilterError("give Meta's error code, a number such as 131026.") from None
    return _in(context, Recipient.contact_id, failed, Recipient.error_code == code), code


def _clicked(context: _Context, op: str, value):
    """Opened a tracked link (campaigns/links.py): lately, or in one campaign (a retarget of "clicked" is the other
    way to reach them)."""
    if op == "in_campaign":
        try:
            campaign_id = int(str(value).strip())
        except (TypeError, ValueError):
            raise FilterError("give the campaign's number, as its page's address shows it (/campaigns/12).") from None
        if context.session.get(Campaign, campaign_id) is None:
            raise FilterError(f"there is no campaign number {campaign_id}.")
        return _in(context, Recipient.contact_id, Recipient.campaign_id == campaign_id,
                   Recipient.clicked_at.is_not(None)), campaign_id
    days = _days(value)
    recent = Recipient.clicked_at >= utcnow() - timedelta(days=days)
    return (_in(context, Recipient.contact_id, recent) if op == "within_days"
            else _not_in(context, Recipient.contact_id, recent)), days


_BUILDERS: dict[str, Callable] = {"tag": _tag, "list": _list, "opted_out": _opted_out, "country": _country,
                                  "received": _received, "replied": _replied, "read": _never_read,
                                  "failed": _failed, "clicked": _clicked}

__all__ = ["ATTRIBUTE_OPS", "ATTRIBUTE_TYPES", "FIELD_OPS", "Compiled", "compile_filter", "describe"]

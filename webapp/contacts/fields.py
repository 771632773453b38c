"""Attributes as filters compare them: the workspace's attribute names with their types, and each contact's values
read as text, number, date and yes/no (contact_values). Contacts keep their values as given in `attributes`, for
templates; every write of those goes through here too, so that a filter never disagrees with what a contact shows.

A value is stored under every type it reads as, so changing an attribute's type rewrites nothing: the filter reads
the other column. Names are compared casefolded ("City" and "city" are one attribute).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from webapp.contacts.errors import ContactsError
from webapp.contacts.models import ATTRIBUTE_TYPES, AttributeField, ContactValue
from webapp.transactions import upsert

MAX_NAME = 100
VALUE_COLUMNS = ("as_text", "as_number", "as_date", "as_flag")
MONTH_FIRST = {"US", "PH"}  # countries whose dates read month/day/year: an import with them as its default country
MAX_TEXT = 255  # what filters compare of a text; the whole value stays in the contact's attributes

_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$|^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DIGITS_AND_SIGNS = frozenset("0123456789+-")
YES = {"yes", "y", "true", "si", "sí", "oui", "ja", "sim", "x", "✓"}  # no digit: "1"/"0" are numbers
NO = {"no", "n", "false", "non", "nein", "não", "nao"}


def key(name: str) -> str:
    """The attribute a name means, whatever its case and surrounding spaces."""
    return name.strip().casefold()[:MAX_NAME]


def as_number(value: str) -> float | None:
    """ "1234", "-12.5", "1,234.50" and "1.234,50" (the last separator with one or two digits after it is the
    decimal one when both kinds appear); None for anything else."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if not text or not _NUMBER.match(text):
        return None
    if "," in text and ("." not in text or text.rfind(",") > text.rfind(".")):
        # "1.234,5" or "12,5": a comma decimal; "1,234" alone is a thousands separator (the first pattern).
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text):
            return float(text.replace(",", ""))
        return float(text.replace(".", "").replace(",", "."))
    return float(text.replace(",", ""))


def as_date(value: str, month_first: bool = False) -> date | None:
    """An ISO date (2026-03-01, with or without a time), or day/month/year with / . or - (month/day/year when
    `month_first`, unless the numbers say otherwise: 13/02/2026 can only be day first); None otherwise."""
    text = value.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_MONTH.match(text):
        first, second, year = (int(part) for part in match.groups())
        if first > 12 or (second <= 12 and not month_first):
            day, month = first, second
        else:
            day, month = second, first
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def as_flag(value: str) -> bool | None:
    word = value.strip().casefold()
    return True if word in YES else False if word in NO else None


TYPES_READ = ("number", "date", "yes_no")  # the order of a value's readings in `readings`, after its text


def readings(value: str, month_first: bool = False) -> tuple[str, float | None, date | None, bool | None]:
    """A non-blank value as filters compare it: its text casefolded, and the number, date and yes/no it reads as."""
    text = value.strip()
    if text[:1] in _DIGITS_AND_SIGNS:  # only these can be numbers or dates: most text is tried no further
        return text.casefold()[:MAX_TEXT], as_number(text), as_date(text, month_first), None
    return text.casefold()[:MAX_TEXT], None, None, as_flag(text)


class TypeGuess:
    """The types a column's values could still be, narrowed value by value (an import reads millions of them)."""

    def __init__(self) -> None:
        self.possible = {"yes_no", "number", "date"}
        self.seen = False

    def add(self, value: str) -> None:
        if value.strip():
            self.see(readings(value))

    def see(self, read: tuple) -> None:
        """Narrow by a value's `readings`."""
        self.seen = True
        if self.possible:
            self.possible -= {kind for kind, reading in zip(TYPES_READ, read[1:]) if reading is None}

    @property
    def type(self) -> str:
        if not self.seen:
            return "text"
        return next((kind for kind in ("yes_no", "number", "date") if kind in self.possible), "text")


def infer(values: Iterable[str]) -> str:
    """The type every non-blank value reads as: yes/no, number, date, else text (and text when there is none)."""
    guess = TypeGuess()
    for value in values:
        guess.add(value)
    return guess.type


def row(contact_id: int, name: str, value: str, month_first: bool = False) -> dict | None:
    """The contact_values row of one attribute value, or None for a blank value (which is no value)."""
    if not value.strip():
        return None
    return dict(zip(("contact_id", "key", *VALUE_COLUMNS), (contact_id, key(name), *readings(value, month_first))))


def write(session: Session, values: Iterable[tuple[int, Mapping[str, str]]], month_first: bool = False,
          replace: bool = False) -> None:
    """Store contacts' attribute values for filters: each (contact id, {name: value}) pair sets those names (a
    blank value removes one); with `replace`, the contact's other values go (its attributes were replaced)."""
    rows, blanks, replaced = [], [], []
    for contact_id, attributes in values:
        if replace:
            replaced.append(contact_id)
        for name, value in attributes.items():
            if (stored := row(contact_id, name, str(value), month_first)) is None:
                blanks.append((contact_id, key(name)))
            else:
                rows.append(stored)
    if replaced:
        session.execute(delete(ContactValue).where(ContactValue.contact_id.in_(replaced)))
    if blanks:
        session.execute(delete(ContactValue).where(tuple_(ContactValue.contact_id, ContactValue.key).in_(blanks)))
    if rows:
        statement = upsert(session, ContactValue.__table__)
        session.execute(statement.on_conflict_do_update(
            index_elements=["contact_id", "key"],
            set_={column: statement.excluded[column] for column in VALUE_COLUMNS}),
            rows)


def remember(session: Session, types: Mapping[str, str]) -> None:
    """Make the workspace know these attribute names ({name as spelled: inferred type}); a name it knows keeps its
    spelling and its type."""
    rows: dict[str, dict] = {}
    for name, kind in types.items():
        if key(name):
            rows.setdefault(key(name), {"key": key(name), "name": name.strip()[:MAX_NAME], "type": kind})
    if rows:
        session.execute(upsert(session, AttributeField.__table__).values(list(rows.values()))
                        .on_conflict_do_nothing(index_elements=["key"]))


def known(session: Session) -> dict[str, AttributeField]:
    """The workspace's attributes by key, in name order."""
    return {field.key: field for field in session.scalars(select(AttributeField).order_by(AttributeField.key))}


def set_type(session: Session, name: str, kind: str) -> AttributeField:
    """An admin's choice of an attribute's type; imports no longer infer it."""
    if kind not in ATTRIBUTE_TYPES:
        raise ContactsError(f"“{kind}” is not a type: choose {', '.join(ATTRIBUTE_TYPES.values())}.")
    field = session.get(AttributeField, key(name))
    if field is None:
        raise ContactsError(f"No contact has an attribute “{name}”.")
    field.type, field.type_set_by_hand = kind, True
    return field

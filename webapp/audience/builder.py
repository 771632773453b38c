"""The segment builder's form: condition rows as the page posts them (c-<n>-field, c-<n>-name, c-<n>-op,
c-<n>-value) turned into a filter definition, and each row with what its inputs offer — the operators fitting
its field or attribute type, and the kind of value input (text, number, date, list, tag, country, days, campaign)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audience.conditions import ATTRIBUTE_OPS, FIELD_OPS, FIELDS, MAX_CONDITIONS
from webapp.contacts import fields
from webapp.contacts.models import ATTRIBUTE_TYPES, ContactList, Tag

FIELD_LABELS = {"attribute": "Attribute", "tag": "Tag", "list": "List", "opted_out": "Opt-out",
                "country": "Country", "received": "Received a campaign", "replied": "Replied",
                "read": "Read", "failed": "Failed message", "clicked": "Clicked a link"}
# The value input each operator needs (None: the operator says it all).
_VALUE_KINDS = {"tag": "tag", "list": "list", "country": "country", "received": "days", "replied": "days",
                "failed": "code", "clicked": "days", "in_campaign": "campaign"}  # by field, or by operator
_NO_VALUE = {"is_empty", "is_not_empty", "is_yes", "is_no", "yes", "no", "never", "any"}
_ROW = re.compile(r"^c-(\d+)-(field|name|op|value)$")


@dataclass(frozen=True)
class Choices:
    """What the rows' selects offer, read once a request."""

    attributes: dict[str, tuple[str, str]]  # key: (name, type)
    lists: list[tuple[int, str]]
    tags: list[str]

    @classmethod
    def read(cls, session: Session) -> Choices:
        known = {key: (attribute.name, attribute.type) for key, attribute in fields.known(session).items()}
        lists = [(row.id, row.name) for row in session.execute(select(ContactList.id, ContactList.name)
                                                                .order_by(ContactList.name))]
        tags = list(session.scalars(select(Tag.name).order_by(func.lower(Tag.name))))
        return cls(known, lists, tags)


@dataclass
class Row:
    """One condition as the builder shows it."""

    index: int
    field: str = "attribute"
    name: str = ""
    op: str = ""
    value: str = ""
    error: str = ""
    choices: Choices | None = None

    @property
    def attribute_type(self) -> str:
        known = (self.choices.attributes if self.choices else {}).get(fields.key(self.name)) if self.name else None
        return known[1] if known else "text"

    @property
    def type_label(self) -> str:
        return ATTRIBUTE_TYPES.get(self.attribute_type, self.attribute_type)

    @property
    def ops(self) -> dict[str, str]:
        return ATTRIBUTE_OPS[self.attribute_type] if self.field == "attribute" else FIELD_OPS[self.field]

    @property
    def value_kind(self) -> str | None:
        """text, number, date, tag, list, country, days, code, campaign — or None when the operator takes no value."""
        if self.op in _NO_VALUE:
            return None
        if self.field == "attribute":
            return {"number": "number", "date": "date"}.get(self.attribute_type, "text")
        return _VALUE_KINDS.get(self.op) or _VALUE_KINDS.get(self.field)

    @property
    def op_changes_inputs(self) -> bool:
        """Whether choosing another operator may take the value input away, bring it back or change its kind (the
        row is drawn again then)."""
        return any(op in _NO_VALUE or op in _VALUE_KINDS for op in self.ops)

    @property
    def unknown_attribute(self) -> bool:
        """A name the workspace does not know (yet): still offered, so an edited segment keeps its condition."""
        return bool(self.name) and fields.key(self.name) not in (self.choices.attributes if self.choices else {})

    def condition(self) -> dict:
        condition = {"field": self.field, "op": self.op}
        if self.field == "attribute":
            condition["name"] = self.name
        if self.value_kind is not None:
            condition["value"] = self.value
        return condition


@dataclass
class Builder:
    """The whole form: the segment's name, all/any, and its rows."""

    name: str = ""
    match: str = "all"
    rows: list[Row] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.rows) >= MAX_CONDITIONS

    def definition(self) -> dict:
        return {"match": self.match, "conditions": [row.condition() for row in self.rows]}

    def errors(self) -> list[tuple[str, str]]:
        """(input id, text) of each row's problem, for the error summary."""
        return [(f"c-{row.index}-op", f"Condition {position + 1}: {row.error}")
                for position, row in enumerate(self.rows) if row.error]

    def show(self, condition: int | None, message: str) -> bool:
        """Put a FilterError on its row (True), or say it belongs to none."""
        if condition is None or not 0 <= condition < len(self.rows):
            return False
        self.rows[condition].error = message.split(": ", 1)[1] if message.startswith("Condition ") else message
        return True


def _row(index: int, given: Mapping[str, str], choices: Choices) -> Row:
    kind = given.get("field") if given.get("field") in FIELDS else "attribute"
    row = Row(index, kind, (given.get("name") or "").strip() if kind == "attribute" else "", given.get("op") or "",
              (given.get("value") or "").strip(), choices=choices)
    if row.op not in row.ops:  # a new field, or an attribute of another type: its first operator
        row.op = next(iter(row.ops))
    return row


def from_form(formdata, choices: Choices) -> Builder:
    """The builder as posted: its rows in their order, "add" adding an empty one, "remove" taking one out."""
    given: dict[int, dict[str, str]] = {}
    for name, value in formdata.items():
        if match := _ROW.match(name):
            given.setdefault(int(match.group(1)), {})[match.group(2)] = value
    rows = [_row(index, given[index], choices) for index in sorted(given)][:MAX_CONDITIONS]
    removed = formdata.get("remove")
    rows = [row for row in rows if str(row.index) != removed]
    if "add" in formdata and len(rows) < MAX_CONDITIONS:
        rows.append(_row(len(rows), {}, choices))
    for position, row in enumerate(rows):  # numbered as shown: "Condition 2" is the second row
        row.index = position
    match = formdata.get("match") if formdata.get("match") in ("all", "any") else "all"
    return Builder(formdata.get("name", "").strip(), match, rows)


def one_row(formdata, choices: Choices) -> Row:
    """The row a select of the builder changed (its inputs alone are sent), drawn again for its new field."""
    index = next((int(m.group(1)) for name in formdata if (m := _ROW.match(name))), 0)
    return _row(index, {part: formdata.get(f"c-{index}-{part}", "") for part in ("field", "name", "op", "value")},
                choices)


def from_definition(name: str, definition: Mapping, choices: Choices) -> Builder:
    """A saved segment as the builder shows it."""
    rows = []
    for index, condition in enumerate(definition.get("conditions") or []):
        value = condition.get("value", "")
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        rows.append(_row(index, {"field": condition.get("field"), "name": condition.get("name", ""),
                                 "op": condition.get("op"), "value": str(value)}, choices))
    return Builder(name, definition.get("match", "all"), rows)


def new(choices: Choices) -> Builder:
    return Builder(rows=[_row(0, {}, choices)])


def attributes_used(definition: Mapping) -> list[str]:
    """The attribute names a definition's conditions read, for the preview's columns."""
    return list(dict.fromkeys(condition["name"] for condition in definition.get("conditions") or []
                              if condition.get("field") == "attribute" and condition.get("name")))


def value_of(attributes: Mapping | None, name: str) -> str:
    """A contact's value of an attribute, whatever the case it was imported with."""
    wanted = fields.key(name)
    return next((str(value) for key, value in (attributes or {}).items() if fields.key(key) == wanted), "")

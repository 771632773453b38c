"""A launch's recipient rows made by the database itself: one INSERT … SELECT per chunk of contacts.

Writing a million rows one Python dict at a time costs more in Python (each person's parameters resolved, their
attributes decoded) and in the driver than the database spends storing them. When every variable of a campaign
comes from the contact's name, an attribute or a constant (the common case), the database builds each row's
parameters itself, from the same parameter snapshot `variables.resolve` makes (its shape is taken from `resolve`
with a marker in each slot, so the two cannot drift apart).

The people SQL cannot settle exactly as Python would go through `recipients.write` in the same chunk, so both ways
give the same rows: those over the frequency cap, those whose attribute is blank, not text or spelled in another
case (`variables.attribute` looks for other spellings), a name with whitespace other than spaces (`str.split`),
and values long enough that the message could be too long (`variables.too_long` renders it). Audiences of a
retarget and campaigns with a sending window (a zone per row, campaigns/windows.py) keep the Python way whole.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, ColumnElement, Integer, Text, and_, case, cast, false, func, literal,
                        not_, or_, select, true, type_coerce)
from sqlalchemy.orm import Session

from webapp.campaigns.audience import members, people
from webapp.campaigns.frequency import Cap
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.recipients import OPTED_OUT, capped, write
from webapp.campaigns.variables import MAX_BODY, MAX_HEADER, MAX_VALUE, resolve, slots, text_lengths
from webapp.campaigns.windows import SendingWindow
from webapp.contacts.models import Contact
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import upsert

# Every character str.strip() and str.split() take for whitespace (none lies past U+3000).
WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
_MARKER = "\x00slot:{}\x00"  # stands in for a slot's value while `resolve` shapes the parameters


@dataclass(frozen=True)
class _Value:
    """One slot's value for a contact, and when SQL can be trusted with it."""

    value: ColumnElement
    settled: ColumnElement[bool]  # where the value is exactly Python's


@dataclass(frozen=True)
class Plan:
    """How the database makes one campaign's rows."""

    values: dict[str, _Value]  # by slot key
    params: ColumnElement      # the parameter snapshot, as JSON
    settled: ColumnElement[bool]

    @classmethod
    def of(cls, session: Session, campaign: Campaign) -> Plan | None:
        """The plan for this campaign, or None when its rows are Python's to make."""
        audience = campaign.audience or {}
        if "retarget" in audience or SendingWindow.of(campaign):
            return None
        sql = _Dialect(session.get_bind().dialect.name)
        values = {}
        for slot in slots(campaign.template_components, campaign.parameter_format):
            value = _value(sql, (campaign.variables or {}).get(slot.key) or {})
            if value is None:
                return None
            values[slot.key] = value
        shape = resolve(campaign.template_components, campaign.parameter_format,
                        {key: {"source": "constant", "value": _MARKER.format(key)} for key in values},
                        campaign.header_media_url, button_payloads=campaign.button_payloads).params
        # variables.too_long's first test: past it, Python renders the message to tell.
        lengths = {key: func.length(value.value) for key, value in values.items()}
        fixed = text_lengths(campaign.template_components)
        short = and_(*(length <= MAX_VALUE for length in lengths.values()),
                     sum(lengths.values(), literal(fixed.get("BODY", 0))) <= MAX_BODY,
                     lengths.get("header", literal(0)) <= MAX_HEADER - fixed.get("HEADER", 0))
        return cls(values, sql.json(shape, {_MARKER.format(key): v.value for key, v in values.items()}),
                   and_(short, *(value.settled for value in values.values())))

    @staticmethod
    def ends(session: Session, campaign: Campaign, after: int, size: int, count: int) -> list[int]:
        """The last contact of each of the next `count` chunks of `size` people past contact `after` (fewer, or
        none, at the audience's end): chunks that can be written at once, each its own transaction."""
        found: list[int] = []
        for _ in range(count):
            chunk = members(session, campaign.audience or {}, Contact.id, after=after).where(Contact.id > after) \
                .order_by(Contact.id).limit(size).subquery()
            upto = session.scalar(select(func.max(chunk.c.id)))
            if upto is None:
                break
            found.append(upto)
            after = upto
        return found

    def write(self, session: Session, campaign: Campaign, after: int, upto: int, cap: Cap | None) -> None:
        """Write the rows of the people past contact `after` up to contact `upto`, and count them. The caller owns
        the transaction; written again (a job resumed), the chunk adds no row and counts none."""
        audience = campaign.audience or {}
        now = utcnow()
        over_cap = list(_over(session, cap, after, upto, now)) if cap else []
        # NULL (an attribute the contact lacks) is not settled: such a person is Python's.
        by_database = func.coalesce(and_(or_(Contact.opted_out_at.is_not(None), self.settled),
                                         Contact.id.not_in(over_cap) if over_cap else true()), false())
        opted_out = Contact.opted_out_at.is_not(None)
        rows = members(session, audience, literal(campaign.id, BigInteger), Contact.id, Contact.phone,
                       func.substr(func.coalesce(Contact.name, ""), 1, 200), func.coalesce(Contact.country, ""),
                       case((opted_out, "skipped"), else_="pending"),
                       case((opted_out, None), else_=self.params),
                       case((opted_out, OPTED_OUT), else_=""), literal(now, UTCDateTime),
                       after=after, upto=upto).where(Contact.id > after, Contact.id <= upto, by_database)
        table = Recipient.__table__
        stmt = upsert(session, table).from_select(
            ["campaign_id", "contact_id", "phone", "name", "country", "status", "params", "skip_reason",
             "created_at"], rows).on_conflict_do_nothing(index_elements=["campaign_id", "phone"]) \
            .returning(table.c.status)
        by_status = _by_status(session, stmt)
        by_status["total"] = by_status.total()
        # All the others of the range (no more than its ids), Python's to make.
        rest = people(session, audience, after, upto - after, where=not_(by_database), upto=upto)
        if rest:
            write(session, campaign, rest, capped(session, cap, rest), counted=by_status)
        # One statement for the chunk's counts: concurrent chunk writers then lock the counters in the same (name)
        # order; two statements (the database's rows', then Python's) let two writers take them crosswise.
        add_counts(session, campaign.id, by_status)


def _by_status(session: Session, insert) -> Counter:
    """Run an INSERT … RETURNING status; how many rows it stored, by status. PostgreSQL counts them itself (one
    row per status back, not one per row); SQLite has no INSERT in a WITH, so Python counts."""
    if session.get_bind().dialect.name != "postgresql":
        return Counter(session.scalars(insert))
    written = insert.cte("written")
    return Counter(dict(session.execute(select(written.c.status, func.count()).group_by(written.c.status)).all()))


def _over(session: Session, cap: Cap, after: int, upto: int, now: datetime) -> set[int]:
    """The contacts past `after` up to `upto` at or over the frequency cap (one grouped query)."""
    return set(session.scalars(cap.recent(now).with_only_columns(Recipient.contact_id)
                               .where(Recipient.contact_id > after, Recipient.contact_id <= upto)))


def _value(sql: _Dialect, spec: Mapping) -> _Value | None:
    """A slot's value in SQL, or None when no contact could have one (every row skipped: Python says why)."""
    source = spec.get("source")
    fallback = str(spec.get("fallback") if spec.get("fallback") is not None else "").strip()
    if source == "attribute":
        key = str(spec.get("value", ""))
        if any(mark in key for mark in '"\\') or not key:
            return None
        own = sql.strip(type_coerce(Contact.attributes[key].as_string(), Text))
        return _Value(own, and_(sql.is_text(Contact.attributes, key), own != ""))
    if source in ("name", "first_name"):
        name = func.coalesce(Contact.name, "")
        own = sql.strip(name) if source == "name" else sql.first_word(sql.strip(name))
        settled = sql.spaces_only(name) if source == "first_name" else true()
        if fallback:
            return _Value(case((own == "", sql.text(fallback)), else_=own), settled)
        return _Value(own, and_(settled, own != ""))
    constant = str(spec.get("value") if spec.get("value") is not None else "").strip() \
        if source == "constant" else ""
    if not (constant or fallback):
        return None
    return _Value(sql.text(constant or fallback), true())


@dataclass(frozen=True)
class _Dialect:
    """The few functions PostgreSQL and SQLite spell differently."""

    name: str

    @property
    def postgresql(self) -> bool:
        return self.name == "postgresql"

    def text(self, value: str) -> ColumnElement:
        """A text constant (typed, as PostgreSQL's json_build_object must know its arguments' types)."""
        return cast(literal(value), Text) if self.postgresql else literal(value, Text)

    def strip(self, text: ColumnElement) -> ColumnElement:
        """str.strip()."""
        return (func.btrim if self.postgresql else func.trim)(text, literal(WHITESPACE, Text))

    def first_word(self, stripped: ColumnElement) -> ColumnElement:
        """str.split()[0] of a stripped text whose only whitespace is spaces ("" for "")."""
        if self.postgresql:
            return func.split_part(stripped, " ", 1)
        space = func.instr(stripped, " ")
        return case((space == 0, stripped), else_=func.substr(stripped, 1, space - 1))

    def spaces_only(self, text: ColumnElement) -> ColumnElement[bool]:
        """Whether the text has no whitespace but spaces (where str.split() and a split on " " agree)."""
        others = WHITESPACE.replace(" ", "")
        if self.postgresql:
            return not_(text.op("~", return_type=Boolean)(literal(f"[{others}]", Text)))
        return not_(text.op("GLOB", return_type=Boolean)(literal(f"*[{others}]*", Text)))

    def is_text(self, attributes: ColumnElement, key: str) -> ColumnElement[bool]:
        """Whether the JSON attribute `key` is a string (a number's text may differ from Python's str())."""
        if self.postgresql:
            return func.json_typeof(attributes.op("->")(literal(key, Text))) == "string"
        return func.json_type(attributes, literal(f'$."{key}"', Text)) == "text"

    def json(self, shape, values: Mapping[str, ColumnElement]) -> ColumnElement:
        """`shape` (dicts, lists, text and numbers) as a JSON expression, each marker replaced by its value."""
        if isinstance(shape, Mapping):
            build = func.json_build_object if self.postgresql else func.json_object
            return build(*(part for key, value in shape.items() for part in (self.text(key), self.json(value, values))))
        if isinstance(shape, list):
            build = func.json_build_array if self.postgresql else func.json_array
            return build(*(self.json(value, values) for value in shape))
        if isinstance(shape, str):
            return values.get(shape, self.text(shape))
        return cast(literal(shape), Integer) if self.postgresql else literal(shape)  # a button's index

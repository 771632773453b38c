"""Who a campaign goes to: the contacts of its lists or of a segment, or an earlier campaign's recipients by outcome;
and what the compose page says of them — the attributes they have, who would be skipped, who would get a fallback.

Every figure here is one aggregate query, whatever the audience's size.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, literal_column, or_, select, true
from sqlalchemy.orm import Session

from webapp.audience.conditions import compile_filter
from webapp.audience.errors import FilterError
from webapp.audience.models import Segment
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import Recipient
from webapp.campaigns.recipients import Candidate
from webapp.campaigns.variables import NAME_SOURCES, slots
from webapp.campaigns.windows import ZONE_ATTRIBUTE, country_name, zone_of
from webapp.contacts.export import attribute_pairs
from webapp.contacts.models import Contact, ListMember

# Retarget outcomes: what staff pick on the compose page, and what the API accepts.
OUTCOMES = {
    "failed": ("Failed", Recipient.status == "failed"),
    "not_delivered": ("Not delivered", and_(Recipient.reached < 3,
                                            Recipient.status.in_(("accepted", "sent", "failed", "unknown")))),
    "delivered_not_read": ("Delivered but not read", Recipient.reached == 3),
    "read_not_replied": ("Read but not replied", Recipient.reached == 4),
    "replied": ("Replied", Recipient.reached == 5),
    "sent": ("Sent", Recipient.reached >= 1),  # the API accepted it, whatever Meta said since
    "delivered": ("Delivered", Recipient.reached >= 3),
    "read": ("Read", Recipient.reached >= 4),
    "not_read": ("Not read", Recipient.reached.between(1, 3)),
    "not_replied": ("Not replied", Recipient.reached.between(1, 4)),
    # Its tracked links (campaigns/links.py): opened one, or delivered and opened none.
    "clicked": ("Clicked a link", Recipient.clicked_at.is_not(None)),
    "not_clicked": ("Delivered but clicked no link", and_(Recipient.reached >= 3, Recipient.clicked_at.is_(None))),
}
COMPOSE_OUTCOMES = ("not_delivered", "delivered_not_read", "read_not_replied", "failed", "replied", "clicked",
                    "not_clicked")
CLICK_OUTCOMES = ("clicked", "not_clicked")  # offered for a campaign with tracked links
# How a retarget's name says its outcome: "Spring sale — retarget (not read)".
OUTCOME_SHORT = {"failed": "failed", "not_delivered": "not delivered", "delivered_not_read": "not read",
                 "read_not_replied": "not replied", "replied": "replied", "clicked": "clicked",
                 "not_clicked": "not clicked"}


def outcome_counts(counters: Mapping[str, int]) -> dict[str, int]:
    """How many recipients of a campaign each compose outcome would retarget, from its counters alone.

    The funnel counters count rows that ever reached a stage (lifecycle.py), so "reached == 3" is
    delivered − read; rows that never reached delivery and were sent (or failed, or are unknown) are the
    total less the delivered and less those never sent (pending, sending, skipped, cancelled).
    """
    return {
        "not_delivered": counters["total"] - counters["delivered"] - counters["pending"] - counters["sending"]
        - counters["skipped"] - counters["cancelled"],
        "delivered_not_read": counters["delivered"] - counters["read"],
        "read_not_replied": counters["read"] - counters["replied"],
        "failed": counters["failed"],
        "replied": counters["replied"],
        "clicked": counters["clicked"],
        "not_clicked": max(counters["delivered"] - counters["clicked"], 0),  # a click without a delivery status: rare
    }


@dataclass(frozen=True)
class Person(Candidate):
    """A candidate of the audience, with its place in the audience's stable order."""

    key: int = field(kw_only=True)  # the cursor: contact id (lists) or source recipient id (retarget)


def members(session: Session, audience: Mapping, *columns, after: int = 0, upto: int | None = None) -> Select:
    """SELECT `columns` over the audience: its lists' contacts, the contacts its segment's conditions match, or the
    retargeted recipients (with their contact). `after` (`upto`): the caller reads contacts past this id (up to
    that one) only."""
    if "retarget" in audience:
        source = audience["retarget"]
        return (select(*columns).select_from(Recipient).outerjoin(Contact, Contact.id == Recipient.contact_id)
                .where(Recipient.campaign_id == source["campaign_id"], OUTCOMES[source["outcome"]][1]))
    if "segment" in audience:
        return select(*columns).select_from(Contact).where(segment_condition(session, audience["segment"], after,
                                                                             upto))
    listed = select(ListMember.contact_id).where(ListMember.list_id.in_(audience.get("lists") or []),
                                                 ListMember.contact_id > after,
                                                 ListMember.contact_id <= upto if upto is not None else true())
    return select(*columns).select_from(Contact).where(Contact.id.in_(listed))


# --- Segments ------------------------------------------------------------------------------------

def segment_copy(segment: Segment) -> dict:
    """What a campaign keeps of its segment: the conditions as they were, so that deleting the segment changes
    nothing of a campaign composed for it."""
    return {"id": segment.id, "name": segment.name, "definition": segment.definition}


def segment_condition(session: Session, copy: Mapping, after: int = 0, upto: int | None = None):
    """The SQL condition of a segment audience's conditions (for contacts past `after`, up to `upto`); a refusal
    (an attribute's type changed since) names the segment."""
    try:
        return compile_filter(session, copy.get("definition"), after, upto).where
    except FilterError as error:
        raise CampaignError(f"Segment “{copy.get('name')}”: {error.message}", field="audience") from None


def refreshed(session: Session, audience: Mapping) -> dict:
    """The audience with its segment's conditions as they are now, at launch (a deleted segment's copy stays)."""
    if "segment" not in audience:
        return dict(audience)
    segment = session.get(Segment, audience["segment"].get("id"))
    return {**audience, "segment": segment_copy(segment)} if segment is not None else dict(audience)


def _name(audience: Mapping):
    """The name a person of the audience goes by: the contact's, or the recipient row's once the contact is gone."""
    return func.coalesce(Contact.name, Recipient.name) if "retarget" in audience else Contact.name


def people(session: Session, audience: Mapping, after: int, size: int,
           where: ColumnElement[bool] | None = None, upto: int | None = None) -> list[Person]:
    """The next `size` people of the audience after cursor `after` (up to contact `upto`; and matching `where`), in
    a stable order."""
    condition = true() if where is None else where
    if "retarget" in audience:
        rows = session.execute(members(session, audience, Recipient, Contact)
                               .where(Recipient.id > after, condition).order_by(Recipient.id).limit(size)).all()
        return [Person(r.phone, c.id if c else r.contact_id, (c.name if c else r.name) or "",
                       (c.country if c else r.country) or "", (c.attributes if c else {}) or {},
                       bool(c and c.opted_out_at), key=r.id) for r, c in rows]
    # Columns, not Contact objects: a launch reads a million of them.
    contacts = session.execute(members(session, audience, Contact.id, Contact.phone, Contact.name, Contact.country,
                                        Contact.attributes, Contact.opted_out_at, after=after, upto=upto)
                               .where(Contact.id > after, Contact.id <= upto if upto is not None else true(),
                                      condition).order_by(Contact.id).limit(size)).all()
    return [Person(c.phone, c.id, c.name or "", c.country or "", c.attributes or {}, c.opted_out_at is not None,
                   key=c.id) for c in contacts]


def all_people(session: Session, audience: Mapping, size: int = 2000) -> Iterator[Person]:
    after = 0
    while batch := people(session, audience, after, size):
        yield from batch
        after = batch[-1].key


# --- Attributes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribute:
    """An attribute of the audience's contacts, its spellings ("city", "City") counted as one."""

    name: str                   # the spelling most contacts have
    spellings: tuple[str, ...]  # every spelling found, for the queries that read it
    filled: int                 # contacts with a non-empty value
    of: int                     # contacts in the audience


def attributes(session: Session, audience: Mapping) -> list[Attribute]:
    """The attributes the audience's contacts have, by name, from one GROUP BY over their keys."""
    pairs = attribute_pairs(session)
    has_value = func.count(case((func.trim(pairs.c.value) != "", 1)))
    rows = session.execute(members(session, audience, pairs.c.key, func.count(), has_value)
                           .join(pairs, true()).group_by(pairs.c.key)).all()
    by_name: dict[str, list] = {}
    # The most common spelling names the attribute; on a tie, the lower-case one.
    for key, having, filled in sorted(rows, key=lambda row: (-row[1], row[0] != row[0].casefold(), row[0])):
        by_name.setdefault(key.casefold(), []).append((key, filled))
    total = session.scalar(members(session, audience, func.count())) or 0
    # A contact with two spellings of one attribute is counted twice: rare, and never past the whole audience.
    found = [Attribute(spelled[0][0], tuple(key for key, _ in spelled), min(total, sum(n for _, n in spelled)), total)
             for spelled in by_name.values()]
    return sorted(found, key=lambda attribute: attribute.name.casefold())


def _has_attribute(session: Session, audience: Mapping, name: str) -> bool:
    """Whether a contact of the audience has this attribute: stops at the first one found, so it is cheap when
    the answer is yes. SQL's lower() may fold fewer letters than Python's casefold(): a no is checked again."""
    pairs = attribute_pairs(session)
    return session.scalar(members(session, audience, literal(1)).join(pairs, true())
                          .where(func.lower(pairs.c.key) == name.lower()).limit(1)) is not None


def attribute_problems(session: Session, audience: Mapping, components: list, parameter_format: str,
                       variables: Mapping) -> dict[str, str]:
    """Variables mapped to an attribute no contact of the audience has, by slot key, each naming it."""
    wanted = {slot.key: name for slot in slots(components, parameter_format)
              if (spec := variables.get(slot.key) or {}).get("source") == "attribute"
              and (name := str(spec.get("value", "")).strip())}
    doubtful = {key: name for key, name in wanted.items() if not _has_attribute(session, audience, name)}
    if not doubtful:
        return {}
    known = attributes(session, audience)
    names = {attribute.name.casefold() for attribute in known}
    who = ("No contact among these recipients" if "retarget" in audience
           else "No contact of this segment" if "segment" in audience
           else "No contact in this list" if len(audience.get("lists") or []) == 1 else "No contact in these lists")
    listed = (f"Known: {', '.join(a.name for a in known)}." if known
              else "Its contacts have no attributes: import a file with more columns than phone and name.")
    return {key: f"{who} has an attribute “{name}”. {listed}" for key, name in doubtful.items()
            if name.casefold() not in names}


# --- The forecast ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fallback:
    label: str     # the variable, "{{first_name}}"
    fallback: str  # "there"
    count: int     # recipients who would get it


@dataclass(frozen=True)
class Summary:
    total: int
    opted_out: int
    missing: int        # lack a variable that has no fallback
    missing_what: list[str]
    fallbacks: list[Fallback] = field(default_factory=list)
    capped: int = 0     # over the workspace's frequency cap (campaigns/frequency.py)
    by_country: Counter = field(default_factory=Counter)  # who will be sent, by their number's country ("": none)

    @property
    def sendable(self) -> int:
        return self.total - self.opted_out - self.capped - self.missing


def _blank(value) -> ColumnElement[bool]:
    return or_(value.is_(None), func.trim(value) == "")


def _lacks(audience: Mapping, spec: Mapping, known: list[Attribute]) -> ColumnElement[bool] | None:
    """Where a person has no value of their own for this variable (None: its value never depends on the person)."""
    source = spec.get("source")
    if source in NAME_SOURCES:  # a name that is not blank always has a first word
        return _blank(_name(audience))
    if source != "attribute":
        return None
    wanted = str(spec.get("value", "")).strip().casefold()
    spellings = next((a.spellings for a in known if a.name.casefold() == wanted), ())
    if not spellings:
        return true()  # nobody has it (saving refuses that; the preview still counts it)
    return and_(*(_blank(Contact.attributes[key].as_string()) for key in spellings))


def _opted_out() -> ColumnElement[bool]:
    return Contact.opted_out_at.is_not(None)  # a retargeted row whose contact is gone has none: not opted out


@dataclass(frozen=True)
class _Gaps:
    """The variables a person may lack, split by whether a fallback covers them."""

    skipped: list[tuple[str, ColumnElement[bool]]]              # (label, lacks) without a fallback
    covered: list[tuple[str, str, ColumnElement[bool]]]         # (label, fallback, lacks)


def attributes_used(session: Session, audience: Mapping, variables: Mapping) -> list[Attribute]:
    """The audience's attributes when a variable reads one (the GROUP BY is skipped when none does)."""
    if any((spec or {}).get("source") == "attribute" for spec in variables.values()):
        return attributes(session, audience)
    return []


def _gaps(session: Session, audience: Mapping, components: list, parameter_format: str, variables: Mapping,
          known: list[Attribute] | None) -> _Gaps:
    known = attributes_used(session, audience, variables) if known is None else known
    skipped, covered = [], []
    for slot in slots(components, parameter_format):
        spec = variables.get(slot.key) or {}
        lacks = _lacks(audience, spec, known)
        if lacks is None:
            continue
        fallback = str(spec.get("fallback") or "").strip()
        if fallback:
            covered.append((slot.label, fallback, lacks))
        else:
            skipped.append((slot.label, lacks))
    return _Gaps(skipped, covered)


def _flag(condition: ColumnElement[bool], name: str):
    return case((condition, 1), else_=0).label(name)


def summary(session: Session, audience: Mapping, components: list, parameter_format: str,
            variables: Mapping, known: list[Attribute] | None = None,
            capped: Callable[[ColumnElement], ColumnElement[bool]] | None = None) -> Summary:
    """Who the send reaches, who it skips and why, and who gets which fallback: one aggregate query, over one
    row of flags per person (so each attribute is read once a person, however many figures use it). `capped`
    says, of a contact id, whether the frequency cap skips them; as at launch, opted out comes first, then the cap."""
    gaps = _gaps(session, audience, components, parameter_format, variables, known)
    skipped = or_(*(lacks for _, lacks in gaps.skipped)) if gaps.skipped else false()
    flags = members(session, audience, _country(audience).label("country"), _flag(_opted_out(), "opted_out"),
                    _flag(skipped, "skipped"), _flag(capped(Contact.id) if capped else false(), "capped"),
                     *(_flag(lacks, f"lacks_{i}") for i, (_, _, lacks) in enumerate(gaps.covered))).subquery()
    reachable = flags.c.opted_out == 0
    uncapped = and_(reachable, flags.c.capped == 0)
    # One row per country (a few hundred at most), summed here: the cost estimate prices the sendable by country.
    rows = session.execute(select(
        flags.c.country, func.count(), func.sum(flags.c.opted_out),
        func.sum(case((uncapped, flags.c.skipped), else_=0)), func.sum(case((reachable, flags.c.capped), else_=0)),
        *(func.sum(case((and_(uncapped, flags.c.skipped == 0), flags.c[f"lacks_{i}"]), else_=0))
          for i in range(len(gaps.covered)))).group_by(flags.c.country)).all()
    figures = [[int(n or 0) for n in row[1:]] for row in rows]
    total, opted_out, missing, over_cap, *fallen_back = (sum(column) for column in zip(*figures)) if figures \
        else [0] * (4 + len(gaps.covered))
    by_country = Counter({row[0] or "": count - out - miss - cap
                          for row, (count, out, miss, cap, *_) in zip(rows, figures) if count - out - miss - cap})
    return Summary(total, opted_out, missing, [label for label, _ in gaps.skipped],
                   [Fallback(label, fallback, count) for (label, fallback, _), count in zip(gaps.covered, fallen_back)
                    if count], over_cap, by_country)


def _country(audience: Mapping):
    """The country of a person's number: the contact's, or the recipient row's once the contact is gone."""
    return func.coalesce(Contact.country, Recipient.country) if "retarget" in audience else Contact.country


def first_with_fallback(session: Session, audience: Mapping, components: list, parameter_format: str,
                        variables: Mapping, known: list[Attribute] | None = None) -> Person | None:
    """The first person who would be sent a fallback (and not be skipped), to show in the preview."""
    gaps = _gaps(session, audience, components, parameter_format, variables, known)
    if not gaps.covered:
        return None
    skipped = or_(*(lacks for _, lacks in gaps.skipped)) if gaps.skipped else false()
    found = people(session, audience, 0, 1, where=and_(~_opted_out(), ~skipped,
                                                        or_(*(lacks for _, _, lacks in gaps.covered))))
    return found[0] if found else None


# --- Where the audience is: a sending window's forecast ----------------------------------------------

@dataclass
class Placed:
    """The audience's reachable people by the zone launch will give them (campaigns/windows.py)."""

    per_zone: Counter = field(default_factory=Counter)
    several: Counter = field(default_factory=Counter)  # (country, zones its numbers name, zone used) → people
    workspace: int = 0      # numbers without zone data: the workspace's zone
    bad_attribute: int = 0  # a `timezone` attribute that names no zone: their number's stood in


def placed(session: Session, audience: Mapping, fallback: str) -> Placed:
    """Group the audience by what decides a zone (the attribute's value, the number's first digits and length),
    then place each group as launch places its people: two queries, and a zone lookup per group."""
    pairs = attribute_pairs(session)
    spellings = session.scalars(members(session, audience, pairs.c.key).join(pairs, true())
                                .where(func.lower(pairs.c.key) == ZONE_ATTRIBUTE).distinct()).all()
    named = func.coalesce(*(Contact.attributes[key].as_string() for key in spellings), "") if spellings \
        else literal("")
    phone = Recipient.phone if "retarget" in audience else Contact.phone
    who = members(session, audience, named.label("named"), phone.label("phone")).where(~_opted_out()).subquery()
    prefix = func.substr(who.c.phone, literal_column("1"), literal_column("10"))
    rows = session.execute(select(who.c.named, func.count(), func.min(who.c.phone))
                           .group_by(who.c.named, prefix, func.length(who.c.phone))).all()
    found = Placed()
    for attribute, count, sample in rows:
        zoned = zone_of(sample, (attribute or "").strip(), fallback)
        found.per_zone[zoned.zone] += count
        if zoned.how == "first":
            found.several[(country_name(sample), zoned.choices, zoned.zone)] += count
        found.workspace += count if zoned.how == "workspace" else 0
        found.bad_attribute += count if zoned.bad_attribute else 0
    return found

"""Who a campaign goes to: the contacts of its lists, or an earlier campaign's recipients by outcome."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Recipient
from webapp.campaigns.recipients import Candidate
from webapp.campaigns.variables import slots
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
}
COMPOSE_OUTCOMES = ("failed", "not_delivered", "delivered_not_read", "read_not_replied", "replied")


@dataclass(frozen=True)
class Person(Candidate):
    """A candidate of the audience, with its place in the audience's stable order."""

    key: int = field(kw_only=True)  # the cursor: contact id (lists) or source recipient id (retarget)


def _lists_query(list_ids):
    members = select(ListMember.contact_id).where(ListMember.list_id.in_(list_ids))
    return select(Contact).where(Contact.id.in_(members))


def _retarget_query(campaign_id: int, outcome: str):
    return (select(Recipient, Contact).outerjoin(Contact, Contact.id == Recipient.contact_id)
            .where(Recipient.campaign_id == campaign_id, OUTCOMES[outcome][1]))


def people(session: Session, audience: Mapping, after: int, size: int) -> list[Person]:
    """The next `size` people of the audience after cursor `after`, in a stable order."""
    if "retarget" in audience:
        source = audience["retarget"]
        rows = session.execute(_retarget_query(source["campaign_id"], source["outcome"])
                               .where(Recipient.id > after).order_by(Recipient.id).limit(size)).all()
        return [Person(r.phone, c.id if c else r.contact_id, (c.name if c else r.name) or "",
                       (c.country if c else r.country) or "", (c.attributes if c else {}) or {},
                       bool(c and c.opted_out_at), key=r.id) for r, c in rows]
    contacts = session.scalars(_lists_query(audience.get("lists") or [])
                               .where(Contact.id > after).order_by(Contact.id).limit(size)).all()
    return [Person(c.phone, c.id, c.name or "", c.country or "", c.attributes or {}, c.opted_out_at is not None,
                   key=c.id) for c in contacts]


def all_people(session: Session, audience: Mapping, size: int = 2000) -> Iterator[Person]:
    after = 0
    while batch := people(session, audience, after, size):
        yield from batch
        after = batch[-1].key


@dataclass(frozen=True)
class Summary:
    total: int
    opted_out: int
    missing: int        # lack a variable that has no fallback
    missing_what: list[str]

    @property
    def sendable(self) -> int:
        return self.total - self.opted_out - self.missing


def summary(session: Session, audience: Mapping, components: list, parameter_format: str,
            variables: Mapping) -> Summary:
    """Counts for the compose page, each one aggregate query whatever the audience's size."""
    if "retarget" in audience:
        source = audience["retarget"]
        query = (select(func.count()).select_from(Recipient).outerjoin(Contact, Contact.id == Recipient.contact_id)
                 .where(Recipient.campaign_id == source["campaign_id"], OUTCOMES[source["outcome"]][1]))
    else:
        members = select(ListMember.contact_id).where(ListMember.list_id.in_(audience.get("lists") or []))
        query = select(func.count()).select_from(Contact).where(Contact.id.in_(members))
    total = session.scalar(query) or 0
    opted_out = session.scalar(query.where(Contact.opted_out_at.is_not(None))) or 0
    lacking, what = [], []
    for slot in slots(components, parameter_format):
        spec = variables.get(slot.key) or {}
        if str(spec.get("fallback") or "").strip() or spec.get("source") == "constant":
            continue
        if spec.get("source") == "name":
            lacking.append(or_(Contact.name.is_(None), Contact.name == ""))
        elif spec.get("source") == "attribute":
            value = Contact.attributes[spec.get("value", "")].as_string()
            lacking.append(or_(value.is_(None), value == ""))
        else:
            continue
        what.append(slot.label)
    missing = session.scalar(query.where(Contact.opted_out_at.is_(None), or_(*lacking))) if lacking else 0
    return Summary(total, opted_out, missing or 0, what)

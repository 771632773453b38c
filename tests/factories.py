"""Test data built the way the product builds it."""
from __future__ import annotations

import phonenumbers
from sqlalchemy import insert

from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import utcnow


def sender(**fields) -> Sender:
    values = {"label": "Test number", "phone_number_id": "100000000000001", "waba_id": "200000000000001",
              "display_phone_number": "15550001234", "access_token": "sandbox-token", "throughput": 80}
    row = Sender(**{**values, **fields})
    db.session.add(row)
    db.session.flush()
    return row


def template(**fields) -> Template:
    values = {"waba_id": "200000000000001", "name": "order_update", "language": "en_US", "status": "APPROVED",
              "category": "UTILITY", "parameter_format": "POSITIONAL",
              "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."}]}
    row = Template(**{**values, **fields})
    db.session.add(row)
    db.session.flush()
    return row


def campaign(status: str = "sending", phones=(), **fields) -> Campaign:
    """A campaign with one pending recipient row per phone, its counters set as a launch would."""
    owner = fields.pop("sender", None) or sender()
    if status not in ("draft", "scheduled", "queued"):
        fields.setdefault("started_at", utcnow())  # a campaign past its snapshot has started
    row = Campaign(name=fields.pop("name", "Spring sale"), sender=owner, status=status,
                   template_name="order_update", template_language="en_US", **fields)
    db.session.add(row)
    db.session.flush()
    if phones:
        db.session.execute(insert(Recipient), [
            {"campaign_id": row.id, "phone": phone, "params": {"body": ["Ana", str(i)]}, "status": "pending"}
            for i, phone in enumerate(phones)
        ])
        add_counts(db.session, row.id, {"total": len(phones), "pending": len(phones)})
    db.session.commit()
    return row


def contact_list(name: str = "Customers", people=()) -> "ContactList":
    """A list with contacts given as (phone, name, attributes) tuples or phone strings; their attributes are known
    to the workspace with the types an import would infer, and filters can read them."""
    from webapp.contacts import fields
    from webapp.contacts.models import Contact, ContactList, ListMember

    row = ContactList(name=name)
    db.session.add(row)
    db.session.flush()
    for person in people:
        phone, person_name, attributes = (person, "", {}) if isinstance(person, str) else person
        contact = db.session.query(Contact).filter_by(phone=phone).one_or_none()
        if contact is None:
            region = phonenumbers.region_code_for_country_code(phonenumbers.parse(phone).country_code)
            contact = Contact(phone=phone, name=person_name, attributes=attributes,
                              country=region if len(region) == 2 else "")
            db.session.add(contact)
            db.session.flush()
            fields.write(db.session, [(contact.id, attributes)])
        db.session.add(ListMember(list_id=row.id, contact_id=contact.id))
    named: dict[str, list[str]] = {}
    for person in people:
        for key, value in ({} if isinstance(person, str) else person[2]).items():
            named.setdefault(key, []).append(str(value))
    fields.remember(db.session, {key: fields.infer(values) for key, values in named.items()})
    db.session.commit()
    return row

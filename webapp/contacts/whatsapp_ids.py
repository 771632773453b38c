"""A contact's two forms of number: the E.164 phone we send to, and the WhatsApp id (wa_id) Meta reports for it.

Meta answers a send with the recipient's wa_id, and the customer's messages, STOP and marketing stop come from
it. It is not always the number we sent to: for accounts older than a numbering change, a Brazilian mobile's
wa_id lacks the ninth digit (+55 11 98765-4321 is 551187654321) and a Mexican one carries a 1 after the 52.
Contacts and recipient rows keep the wa_id only when it differs from their phone's digits; a number Meta reports
finds its contacts by either form (`Contact.known_by`).
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from webapp.contacts import optouts
from webapp.contacts.models import Contact

_contacts = Contact.__table__
LEARN = (update(_contacts).where(_contacts.c.phone == bindparam("sent_to"),
                                 or_(_contacts.c.wa_id.is_(None), _contacts.c.wa_id != bindparam("reported")))
         .values(wa_id=bindparam("reported")))


def other_form(phone: str, wa_id: str) -> str | None:
    """The wa_id Meta answered a send to `phone` with, when it is not the phone's digits; else None."""
    return wa_id if wa_id and wa_id != phone.lstrip("+") else None


def learn(session: Session, reported: Mapping[str, str]) -> None:
    """Keep on each contact the wa_id Meta answered its phone with (`reported`: phone -> wa_id, where they differ).

    A STOP that came from the wa_id before we knew whose it is opted out a contact of that form: the person is
    now known to be the one we send to as well, so the number we send to is opted out too (a contact is made for
    it if it has none), and no campaign messages them again."""
    if not reported:
        return
    phone_of = {f"+{wa_id}": phone for phone, wa_id in reported.items()}
    stopped = session.execute(select(Contact.phone, Contact.opted_out_at, Contact.opt_out_reason)
                              .where(Contact.phone.in_(phone_of), Contact.opted_out_at.is_not(None))
                              .order_by(Contact.phone)).all()
    for wa_phone, at, reason in stopped:
        optouts.opt_out(session, phone_of[wa_phone], at, reason)
    session.execute(LEARN, [{"sent_to": phone, "reported": wa_id} for phone, wa_id in sorted(reported.items())])


def move(session: Session, old: str, new: str) -> Contact | None:
    """A customer changed their number (WhatsApp's `user_changed_number` notice): their contact takes the new one,
    keeping its name, lists, tags and opt-out, so campaigns reach them there and a STOP still holds. Nothing moves
    when no contact has the old number, or when the new one already has a contact of its own (two records to tell
    apart by hand) — but the opt-out of the old one then opts the new one out too: whoever it was, the person now
    on that number asked for no more messages. Returns the contact moved."""
    from webapp.contacts.phones import InvalidPhone, normalise

    contact = session.scalar(select(Contact).where(Contact.known_by(old)).order_by(Contact.id).limit(1))
    if session.scalar(select(Contact.id).where(Contact.known_by(new)).limit(1)) is not None:
        if contact is not None and contact.opted_out_at is not None:
            optouts.opt_out(session, new, contact.opted_out_at, contact.opt_out_reason)
        return None
    if contact is None:
        return None
    try:  # "+" and its digits: international whatever the region; Meta's word that it is WhatsApp's is enough
        region = normalise(new, "US").region
    except (InvalidPhone, ValueError):
        region = ""
    contact.phone, contact.wa_id, contact.country = new, None, region if len(region) == 2 else ""
    return contact

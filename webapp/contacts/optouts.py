"""Opt-outs that customers tell us about: a STOP-like reply or a tap on a stop button, Meta's marketing stop and
resume, error 131050."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import Select, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from webapp.contacts.models import Contact, ContactEvent
from webapp.events.outbox import emit_many, wanted
from webapp.timestamps import UTCDateTime, iso
from webapp.transactions import is_sqlite, upsert

STOPPED_MARKETING = "Meta: user stopped marketing messages"
# The words of the stop buttons businesses put on marketing templates (Meta's examples say "Unsubscribe"): a
# tap on one opts out whatever the Settings keywords are. What customers type is read against the keywords only.
STOP_BUTTON_PHRASES = (
    "Stop promotions", "Stop promos", "Stop", "Unsubscribe", "Opt out",
    "Parar promociones", "No más promociones", "Darse de baja", "Darme de baja", "Cancelar suscripción",  # Spanish
    "Parar promoções", "Cancelar inscrição", "Sair",  # Portuguese
)


def _normalise(text: str) -> str:
    """Compare as a person reads: any case, any surrounding or repeated whitespace, any Unicode form."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def keyword_set(setting: str) -> frozenset[str]:
    """The Settings list of opt-out keywords (comma-separated) as normalised words."""
    return frozenset(word for word in (_normalise(part) for part in setting.split(",")) if word)


_BUTTON_PHRASES = keyword_set(",".join(STOP_BUTTON_PHRASES))


def is_keyword(text: str, keywords: frozenset[str]) -> bool:
    """Whether a message is exactly one of the keywords (not merely contains one): an opt-out's, an opt-in's."""
    return bool(text) and _normalise(text) in keywords


def opt_out_reason(text: str, keywords: frozenset[str], button: str = "", payload: str = "") -> str:
    """Why a customer's message opts them out, or "" when it does not: the button they tapped has a stop
    button's words or a keyword as its label or payload (`STOP_PROMOTIONS` reads "stop promotions"), or what
    they wrote is exactly a keyword."""
    if button:
        phrases = keywords | _BUTTON_PHRASES
        if is_keyword(button, phrases) or is_keyword(re.sub(r"[_-]+", " ", payload), phrases):
            return f"Tapped the “{button}” button"
    return text.strip() if is_keyword(text, keywords) else ""


def opt_out(session: Session, phone: str, at: datetime, reason: str, name: str = "",
            sent_to: str | None = None) -> Contact:
    """Mark the contacts of `phone` opted out, whichever form of it they are known by (contacts/whatsapp_ids.py),
    creating one if we never imported it, so no later list brings the number back into a campaign: under `sent_to`,
    the number our messages went to when Meta reports `phone` as its wa_id. An earlier opt-out is kept as it was.
    Returns the contact (the oldest, should both forms have one)."""
    contacts = contacts_of(session, phone, sent_to, create_with_name=name)
    newly = [contact for contact in contacts if contact.opted_out_at is None]
    for contact in newly:
        contact.opted_out_at, contact.opt_out_reason = at, reason[:2000]
        session.add(ContactEvent(contact_id=contact.id, kind="opted_out", reason=reason[:2000], at=at))
    emit_many(session, "contact.opted_out", [_event_data(c.id, c.phone, at, reason) for c in newly])
    return contacts[0]


def _event_data(contact_id: int, phone: str, at: datetime, reason: str) -> dict:
    """What a `contact.opted_out` or `contact.opted_in` event says."""
    return {"contact_id": contact_id, "phone": phone, "at": iso(at), "reason": reason[:2000]}


def opt_out_all(session: Session, contacts: Select, at: datetime, reason: str) -> int:
    """Opt out every contact `contacts` selects (ids), and the contacts of the same numbers as Meta reports them
    (as `opt_out` does, one by one), that is not already: two statements whatever their number (the Contacts
    page's bulk action). How many were opted out; each gets its history line."""
    reason = reason[:2000]
    chosen = aliased(Contact)
    reported = case((chosen.wa_id.is_not(None), literal("+") + chosen.wa_id), else_=chosen.phone)
    theirs = or_(Contact.id.in_(contacts),
                 Contact.phone.in_(select(reported).where(chosen.id.in_(contacts))),
                 Contact.wa_id.in_(select(func.substr(reported, 2)).where(chosen.id.in_(contacts))))
    newly = and_(theirs, Contact.opted_out_at.is_(None))
    if wanted(session, "contact.opted_out"):
        emit_many(session, "contact.opted_out", [_event_data(contact_id, phone, at, reason) for contact_id, phone
                                                 in session.execute(select(Contact.id, Contact.phone).where(newly))])
    session.execute(insert(ContactEvent).from_select(
        ["contact_id", "kind", "reason", "at"],
        select(Contact.id, literal("opted_out"), literal(reason), literal(at, UTCDateTime())).where(newly)))
    return session.execute(update(Contact).where(newly).values(opted_out_at=at, opt_out_reason=reason, updated_at=at)
                           .execution_options(synchronize_session=False)).rowcount


def opt_in(session: Session, phone: str, at: datetime, reason: str = "Meta: user resumed marketing messages",
           keeping: tuple[str, ...] = ()) -> bool:
    """Meta's `resume` (or an admin's opt-in, or an opt-in keyword): clear an opt-out that happened before it (a
    later STOP still wins), unless its reason is one of `keeping`. Whether a contact was opted back in."""
    back = [contact for contact in contacts_of(session, phone) if contact.opted_out_at is not None
            and contact.opted_out_at <= at and contact.opt_out_reason not in keeping]
    for contact in back:
        contact.opted_out_at, contact.opt_out_reason = None, ""
        session.add(ContactEvent(contact_id=contact.id, kind="opted_in", reason=reason[:2000], at=at))
    emit_many(session, "contact.opted_in", [_event_data(c.id, c.phone, at, reason) for c in back])
    return bool(back)


def history(session: Session, contact_id: int, limit: int = 50) -> list[ContactEvent]:
    """When and why a contact opted out and back in, newest first."""
    return list(session.scalars(select(ContactEvent).where(ContactEvent.contact_id == contact_id)
                                .order_by(ContactEvent.at.desc(), ContactEvent.id.desc()).limit(limit)))


def contacts_of(session: Session, phone: str, sent_to: str | None = None,
              create_with_name: str | None = None) -> list[Contact]:
    """The contacts of a number as Meta reports it (oldest first, locked on PostgreSQL); with `create_with_name`,
    one is created under that name when none exists (the inbox does so for a stranger's message)."""
    known = Contact.known_by(phone, sent_to)
    if create_with_name is not None and session.scalar(select(Contact.id).where(known).limit(1)) is None:
        # ON CONFLICT DO NOTHING: two webhooks about one new number must not collide on the unique phone.
        session.execute(upsert(session, Contact.__table__).on_conflict_do_nothing(index_elements=["phone"]),
                        [{"phone": sent_to or phone, "wa_id": phone.lstrip("+") if sent_to else None,
                          "name": create_with_name[:200], "country": "", "attributes": {}, "opt_out_reason": ""}])
    query = select(Contact).where(known).order_by(Contact.id).execution_options(populate_existing=True)
    if not is_sqlite(session):
        query = query.with_for_update()
    return list(session.scalars(query))

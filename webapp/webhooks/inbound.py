"""What customers send us: inbound messages linked to the campaign row they answer, and marketing stops."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from webapp.campaigns import guardrail
from webapp.campaigns.daily import Tally
from webapp.campaigns.models import Recipient
from webapp.campaigns.replies import answered_id, answered_row, count_reply, number_sent_to
from webapp.campaigns.statuses import add_deltas
from webapp.contacts import optouts, whatsapp_ids
from webapp.contacts.models import Contact
from webapp.events.outbox import emit
from webapp.inbox.answers import reply_automatically
from webapp.inbox.conversations import Arrival, record_inbound
from webapp.inbox.models import Conversation
from webapp.timestamps import iso, utcnow
from webapp.transactions import upsert
from webapp.webhooks.models import InboundMessage
from webapp.webhooks.payloads import Inbound, PreferenceChange
from webapp.workspace.models import DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, WorkspaceSettings


@dataclass(frozen=True)
class ReplyRules:
    attribution: timedelta
    keywords: frozenset[str]
    opt_in_keywords: frozenset[str] = frozenset()
    opt_out_reply: str = ""  # what a customer a keyword opts out or back in is told at once ("": nothing)
    opt_in_reply: str = ""

    @classmethod
    def load(cls, session: Session) -> ReplyRules:
        settings = session.get(WorkspaceSettings, 1)
        if settings is None:  # before the first run's setup: the defaults, and no replies
            return cls(timedelta(hours=72), optouts.keyword_set(DEFAULT_OPT_OUT_KEYWORDS),
                       optouts.keyword_set(DEFAULT_OPT_IN_KEYWORDS))
        return cls(timedelta(hours=settings.attribution_hours), optouts.keyword_set(settings.opt_out_keywords),
                   optouts.keyword_set(settings.opt_in_keywords), settings.opt_out_reply.strip(),
                   settings.opt_in_reply.strip())


def apply_messages(session: Session, messages: list[tuple[int | None, Inbound]]) -> dict[int | None, int]:
    """Store each new inbound message (a duplicate changes nothing), count replies, honour opt-outs.
    Takes (event id, message) pairs; runs in the caller's write transaction; returns new messages per event."""
    new: dict[int | None, int] = {}
    if not messages:
        return new
    rules = ReplyRules.load(session)
    deltas: dict[int, Counter] = defaultdict(Counter)
    watched: set[int] = set()  # campaigns whose first slice got an opt-out (campaigns/guardrail.py)
    tally = Tally()
    for event_id, message in sorted(messages, key=lambda pair: (pair[1].at, pair[1].wamid)):
        # WhatsApp's own notices (a changed number) answer no campaign.
        row = None if message.type == "system" else answered_row(session, message.phone, message.context_wamid,
                                                                 message.at, rules.attribution)
        reason = optouts.opt_out_reason(message.text, rules.keywords, message.button_text, message.button_payload)
        stored_id = _store(session, message, row, bool(reason), event_id)
        if stored_id is None:
            continue  # Meta sent it again
        new[event_id] = new.get(event_id, 0) + 1
        if row is not None:
            changes = count_reply(row, message.at, message.text, message.button_text,
                                  is_latest=not _newer_reply_exists(session, row.id, message, stored_id))
            deltas[row.campaign_id].update(changes)
            tally.add(row, changes, message.at)
            if reason and not _opted_out_before(session, row.id, stored_id):
                tally.add_figures(row.campaign_id, row.sending_at or message.at, row.zone, opted_out=1)
        reply = ""
        if reason:
            contact = optouts.opt_out(session, message.phone, message.at, reason,
                                      name=message.profile_name, sent_to=number_sent_to(session, message.phone))
            session.execute(update(InboundMessage).where(InboundMessage.id == stored_id)
                            .values(contact_id=contact.id))
            if row is not None and (campaign_id := guardrail.note_opt_out(session, row)):
                watched.add(campaign_id)
            if contact.opted_out_at == message.at:  # opted out by this message, not already
                reply = rules.opt_out_reply
        elif optouts.is_keyword(message.text, rules.opt_in_keywords):
            # Meta's own marketing stop stays: Meta refuses our marketing messages until they resume in WhatsApp.
            if optouts.opt_in(session, message.phone, message.at, f"Wrote “{message.text.strip()}”",
                              keeping=(optouts.STOPPED_MARKETING,)):
                reply = rules.opt_in_reply
        conversation = _into_conversation(session, stored_id, message, row, opts_out=bool(reason))
        if reply:
            reply_automatically(session, conversation, reply, utcnow())
        if message.new_phone:
            whatsapp_ids.move(session, message.phone, message.new_phone)
        emit(session, "message.replied", {
            "broadcast_id": row.campaign_id if row else None, "recipient_id": row.id if row else None,
            "phone": message.phone, "profile_name": message.profile_name, "wamid": message.wamid, "type": message.type,
            "text": message.text, "button": message.button_text or None, "at": iso(message.at)})
    add_deltas(session, deltas)
    guardrail.check(session, watched)
    tally.write(session)
    return new


def answered_ids(session: Session, messages: list[Inbound]) -> set[int]:
    """The campaign rows these messages answer (each becomes `replied`), read without a lock."""
    if not messages:
        return set()
    window = ReplyRules.load(session).attribution
    return {found for message in messages
            if (found := answered_id(session, message.phone, message.context_wamid, message.at, window)) is not None}


def opt_out_answers() -> Select:
    """The ids of the campaign rows answered by an opt-out (a STOP reply, a stop button): the dashboard's
    `opted_out`, each row once (campaigns/daily.py)."""
    return select(InboundMessage.recipient_id).where(InboundMessage.is_opt_out, InboundMessage.recipient_id.is_not(None))


def _opted_out_before(session: Session, row_id: int, stored_id: int) -> bool:
    return session.scalar(select(InboundMessage.id).where(InboundMessage.recipient_id == row_id,
                                                          InboundMessage.is_opt_out, InboundMessage.id != stored_id)
                          .limit(1)) is not None


def apply_preferences(session: Session, changes: list[PreferenceChange]) -> None:
    """Meta's `user_preferences`: a marketing stop opts the contact out, a resume clears it."""
    for change in sorted(changes, key=lambda c: c.at):
        if change.category != "marketing_messages":
            continue
        if change.value == "stop":
            optouts.opt_out(session, change.phone, change.at, optouts.STOPPED_MARKETING,
                            sent_to=number_sent_to(session, change.phone))
        else:
            optouts.opt_in(session, change.phone, change.at)


def _store(session: Session, message: Inbound, row: Recipient | None, opting_out: bool,
           event_id: int | None) -> int | None:
    """Insert the message unless its wamid is known; return the new id, or None for a duplicate."""
    contact_id = session.scalar(select(Contact.id).where(Contact.known_by(message.phone)).order_by(Contact.id).limit(1))
    values = {
        "wamid": message.wamid[:128], "phone": message.phone[:20], "profile_name": message.profile_name,
        "contact_id": contact_id, "recipient_id": row.id if row else None,
        "campaign_id": row.campaign_id if row else None, "type": message.type, "text": message.text,
        "button_payload": message.button_payload, "context_wamid": message.context_wamid,
        "is_opt_out": opting_out, "sent_at": message.at, "event_id": event_id,
    }
    stmt = (upsert(session, InboundMessage.__table__).values(values)
            .on_conflict_do_nothing(index_elements=["wamid"]).returning(InboundMessage.__table__.c.id))
    return session.scalar(stmt)


def _into_conversation(session: Session, stored_id: int, message: Inbound, row: Recipient | None,
                       opts_out: bool) -> Conversation:
    """The inbox's conversation of the customer (a stranger becomes a contact, marked as from the inbox)."""
    contact_id = session.scalar(select(InboundMessage.contact_id).where(InboundMessage.id == stored_id))
    sent_to = number_sent_to(session, message.phone) if contact_id is None else None
    conversation = record_inbound(session, Arrival(
        stored_id, message.phone, message.profile_name, message.type, message.text, message.at,
        message.phone_number_id, row.campaign_id if row else None, message.media, sent_to, opts_out), contact_id)
    if contact_id is None:
        session.execute(update(InboundMessage).where(InboundMessage.id == stored_id)
                        .values(contact_id=conversation.contact_id))
    return conversation


def _newer_reply_exists(session: Session, row_id: int, message: Inbound, stored_id: int) -> bool:
    """Replies can arrive out of order; the row keeps the text of the latest one."""
    return session.scalar(
        select(InboundMessage.id).where(InboundMessage.recipient_id == row_id, InboundMessage.id != stored_id,
                                        InboundMessage.phone == message.phone, InboundMessage.sent_at > message.at)
        .limit(1)) is not None

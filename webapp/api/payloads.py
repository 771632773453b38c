"""The JSON the API answers with, one function per kind of thing (their schemas are in schemas.py)."""
from __future__ import annotations

from webapp.api.broadcasts import Acceptance
from webapp.api.recipients import Report
from webapp.audience.models import Segment
from webapp.campaigns.costs import campaign_cost
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import slots
from webapp.campaigns.windows import clock
from webapp.cloudapi import template_variables
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox import window
from webapp.inbox.timeline import Item
from webapp.meta_errors import explain
from webapp.money import as_text
from webapp.senders.models import Sender, Template
from webapp.timestamps import iso
from webapp.tracking.columns import API_COLUMNS, MOMENT
from webapp.tracking.services import RATE_BASE, figures, percent

RATE_NAMES = {"delivered": "delivery_rate", "read": "read_rate", "replied": "response_rate"}


def page_meta(pagination) -> dict:
    return {"page": pagination.page, "per_page": pagination.per_page, "total": pagination.total or 0,
            "pages": pagination.pages}


def broadcast(campaign: Campaign) -> dict:
    audience = campaign.audience or {}
    retarget = audience.get("retarget")
    found = figures(db.session, campaign.id)
    return {
        "id": campaign.id, "uuid": str(campaign.public_id), "name": campaign.name, "status": campaign.status, "status_label": campaign.label,
        "sender": {"id": campaign.sender.id, "label": campaign.sender.label,
                   "phone_number": campaign.sender.display_phone_number},
        "template": {"name": campaign.template_name, "language": campaign.template_language},
        "audience": {"lists": list(audience.get("lists") or []), "segment": _segment(audience.get("segment")),
                     "retarget": {"broadcast_id": retarget["campaign_id"], "engagement": retarget["outcome"]}
                     if retarget else None,
                     "direct": bool(audience.get("direct"))},
        "variables": campaign.variables or {}, "button_payloads": campaign.button_payloads or {},
        "header_url": campaign.header_media_url or "",
        "sending_window": {"from": clock(campaign.window_opens), "to": clock(campaign.window_closes)}
        if campaign.window_opens is not None else None,
        "origin": campaign.origin, "notice": campaign.notice or None,
        "counts": counts(db.session, campaign.id),
        "rates": {RATE_NAMES[f.name]: f.percent for f in found.rates},
        "processed": found.processed,
        **_cost(campaign),
        "created_at": iso(campaign.created_at), "updated_at": iso(campaign.updated_at),
        "scheduled_at": iso(campaign.scheduled_at), "launched_at": iso(campaign.launched_at),
        "started_at": iso(campaign.started_at), "completed_at": iso(campaign.completed_at),
    }


def _cost(campaign: Campaign) -> dict:
    cost = campaign_cost(db.session, campaign)
    return {"estimated_cost": as_text(cost.estimate.cost) if cost.estimate else None,
            "unpriced_recipients": cost.estimate.unpriced_count if cost.estimate else 0,
            "actual_cost": as_text(cost.actual.cost), "currency": cost.actual.currency}


def _segment(kept: dict | None) -> dict | None:
    if not kept:
        return None
    return {"id": kept["id"], "name": kept["name"], "deleted": db.session.get(Segment, kept["id"]) is None}


def report(found: Report, total: int) -> dict:
    return {"added": found.added, "duplicates": found.duplicates, "skipped": found.skipped, "errors": found.errors,
            "total_recipients": total}


def accepted(campaign: Campaign, taken: Acceptance) -> dict:
    forecast = taken.forecast
    return {
        "data": broadcast(campaign), "accepted": taken.accepted, "rejected": taken.rejected,
        "recipients": report(taken.report, counts(db.session, campaign.id)["total"]) if taken.report else None,
        "forecast": {"total": forecast.summary.total, "sendable": forecast.summary.sendable,
                     "opted_out": forecast.summary.opted_out, "missing_values": forecast.summary.missing}
        if forecast else None,
    }


def log_row(row: Recipient) -> dict:
    """A recipient as the log shows it: the columns of webapp/tracking/columns.py the API names."""
    return {column.api: iso(column.value(row)) if column.kind is MOMENT else column.value(row)
            for column in API_COLUMNS}


def number_row(row: Recipient, campaign_name: str) -> dict:
    return {**log_row(row), "broadcast": {"id": row.campaign_id, "name": campaign_name}}


def rates(messages: dict) -> dict:
    """Delivery, read and response rates as the campaign page computes them: percent of messages accepted."""
    return {RATE_NAMES[name]: percent(messages[name], messages[RATE_BASE]) for name in RATE_NAMES}


def clicks(broadcast_id: int, totals: dict, links: list, clickers: list[Recipient]) -> dict:
    """A broadcast's clicks (GET /broadcasts/{id}/clicks): per tracked link, and a page of who clicked."""
    return {"broadcast_id": broadcast_id, "clicked": totals["clicked"], "delivered": totals["delivered"],
            "click_rate": percent(totals["clicked"], totals["delivered"]),
            "links": [{"variable": link.slot, "url": link.url, "clicks": link.clicks, "unique": link.clickers}
                      for link in links],
            "recipients": [{"id": row.id, "phone_number": row.phone, "clicked_at": iso(row.clicked_at),
                            "clicks": row.clicks or 0} for row in clickers]}


def list_summary(summary) -> dict:
    return {"id": summary.id, "uuid": str(summary.public_id), "name": summary.name, "recipient_count": summary.members,
            "opted_out_count": summary.opted_out, "created_at": iso(summary.created_at)}


def member(contact: Contact) -> dict:
    return {"phone_number": contact.phone, "name": contact.name or "", "country": contact.country or "",
            "opted_out": contact.opted_out_at is not None, "attributes": contact.attributes or {}}


def sender(row: Sender) -> dict:
    return {"id": row.id, "uuid": str(row.public_id), "label": row.label, "phone_number": row.display_phone_number,
            "phone_number_id": row.phone_number_id, "throughput": row.throughput,
            "messaging_limit": row.messaging_limit, "sandbox": bool(row.is_sandbox)}


def template(row: Template) -> dict:
    needs = template_variables(row.components, row.parameter_format)
    return {"id": row.id, "uuid": str(row.public_id), "name": row.name, "language": row.language, "status": row.status,
            "category": row.category, "parameter_format": row.parameter_format, "header": needs.header,
            "parameters": [{"key": s.key, "label": s.label} for s in slots(row.components, row.parameter_format)],
            "quick_replies": [{"index": index, "text": label} for index, label in needs.quick_replies]}


# --- The Inbox -------------------------------------------------------------------------------------

def conversation(listed, now) -> dict:
    """A conversation of the list (webapp/inbox/conversations.py's `Listed`), with its window."""
    found = listed.conversation
    return {"id": found.id,
            "contact": {"id": found.contact_id, "phone_number": listed.phone, "name": listed.name,
                        "opted_out": listed.opted_out},
            "status": found.status, "unread": found.unread, "needs_answer": found.needs_answer,
            "assigned_to": {"id": found.assigned_to_id, "name": listed.assigned_name}
            if found.assigned_to_id else None,
            "campaign_id": found.campaign_id, "last_text": found.last_text,
            "last_message_at": iso(found.last_message_at),
            "last_customer_message_at": iso(found.last_customer_message_at),
            "window": _window(found.last_customer_message_at, now)}


def _window(last_customer_message_at, now) -> dict:
    return {"open": window.is_open(last_customer_message_at, now), "closes_at": iso(window.closes_at(
        last_customer_message_at))}


def _error(row) -> dict | None:
    if row.status not in ("failed", "unknown"):
        return None
    return {"code": row.error_code, "title": row.error_title or "", "reason": explain(row.error_code).summary}


def message(item) -> dict:
    """One message of a conversation (webapp/inbox/timeline.py's `Item`): a campaign's, the customer's, or an
    answer, with its status."""
    row = item.message
    found = {"id": row.id, "at": iso(item.at), "source": SOURCES[item.kind],
             "direction": "in" if item.kind == "inbound" else "out", "status": None, "error": None,
             "broadcast": None, "template": None, "media": None, "sent_by": None, "automatic": False}
    if item.kind == "campaign":
        found.update(type="template", text=item.rendered.text, status=row.status, error=_error(row),
                     broadcast={"id": row.campaign_id, "name": item.campaign_name})
    elif item.kind == "inbound":
        media = item.media
        found.update(type=row.type, text=row.text or "", media={
            "status": media.status, "mime_type": media.mime_type, "filename": media.filename,
            "size": media.size} if media else None)
    else:
        found.update(type=row.kind, text=row.text or "", status=row.status, error=_error(row),
                     template={"name": row.template_name, "language": row.template_language}
                     if row.kind == "template" else None,
                     media={"status": "stored" if row.media_file else "remote", "mime_type": row.media_mime,
                            "filename": row.media_name, "size": None} if row.kind not in ("text", "template")
                     else None,
                     sent_by=(row.sent_by.name or row.sent_by.email) if row.sent_by else None, automatic=row.automatic)
    return found


def answer(row) -> dict:
    """An answer just queued, as its conversation will show it."""
    return message(Item(row.created_at, "answer", row))


SOURCES = {"campaign": "broadcast", "inbound": "customer", "answer": "answer"}


def list_outcome(outcome) -> dict:
    return {"contact_id": outcome.contact_id, "phone_number": outcome.phone, "name": outcome.name,
            "status": "skipped" if outcome.skipped else "queued", "message_id": outcome.message_id,
            "reason": outcome.skipped or None}

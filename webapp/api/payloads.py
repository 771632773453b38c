"""The JSON the API answers with, one function per kind of thing (their schemas are in schemas.py)."""
from __future__ import annotations

from datetime import datetime

import phonenumbers

from webapp.api.broadcasts import Acceptance
from webapp.api.recipients import Report
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import slots
from webapp.cloudapi import template_variables
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.tracking.services import figures, percent

RATE_NAMES = {"delivered": "delivery_rate", "read": "read_rate", "replied": "response_rate"}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def page_meta(pagination) -> dict:
    return {"page": pagination.page, "per_page": pagination.per_page, "total": pagination.total or 0,
            "pages": pagination.pages}


def broadcast(campaign: Campaign) -> dict:
    audience = campaign.audience or {}
    retarget = audience.get("retarget")
    found = figures(db.session, campaign.id)
    return {
        "id": campaign.id, "name": campaign.name, "status": campaign.status, "status_label": campaign.label,
        "sender": {"id": campaign.sender.id, "label": campaign.sender.label,
                   "phone_number": campaign.sender.display_phone_number},
        "template": {"name": campaign.template_name, "language": campaign.template_language},
        "audience": {"lists": list(audience.get("lists") or []),
                     "retarget": {"broadcast_id": retarget["campaign_id"], "engagement": retarget["outcome"]}
                     if retarget else None,
                     "direct": bool(audience.get("direct"))},
        "variables": campaign.variables or {}, "header_url": campaign.header_media_url or "",
        "origin": campaign.origin, "notice": campaign.notice or None,
        "counts": counts(db.session, campaign.id),
        "rates": {RATE_NAMES[f.name]: f.percent for f in found.rates},
        "processed": found.processed,
        "created_at": iso(campaign.created_at), "updated_at": iso(campaign.updated_at),
        "scheduled_at": iso(campaign.scheduled_at), "launched_at": iso(campaign.launched_at),
        "started_at": iso(campaign.started_at), "completed_at": iso(campaign.completed_at),
    }


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


def calling_code(row: Recipient) -> str:
    """The country calling code of the row's number ("1", "44"), from its region or the number itself."""
    if row.country:
        return str(phonenumbers.country_code_for_region(row.country) or "")
    try:
        return str(phonenumbers.parse(row.phone).country_code)
    except phonenumbers.NumberParseException:
        return ""


def log_row(row: Recipient) -> dict:
    return {
        "id": row.id, "phone_number": row.phone, "name": row.name or "", "message_id": row.wamid,
        "country": row.country or "",
        "country_code": calling_code(row), "status": row.status, "skip_reason": row.skip_reason or "",
        "error_code": row.error_code, "error_title": row.error_title or "", "error_detail": row.error_detail or "",
        "reply_text": row.reply_text or "", "reply_button": row.reply_button or "",
        "billable": row.pricing_billable, "pricing_category": row.pricing_category or "",
        "created_at": iso(row.created_at), "sent_at": iso(row.sent_at), "delivered_at": iso(row.delivered_at),
        "read_at": iso(row.read_at), "replied_at": iso(row.replied_at), "failed_at": iso(row.failed_at),
    }


def number_row(row: Recipient, campaign_name: str) -> dict:
    return {**log_row(row), "broadcast": {"id": row.campaign_id, "name": campaign_name}}


def rates(messages: dict) -> dict:
    """Delivery, read and response rates as the campaign page computes them: percent of messages sent."""
    return {RATE_NAMES[name]: percent(messages[name], messages["sent"]) for name in RATE_NAMES}


def list_summary(summary) -> dict:
    return {"id": summary.id, "name": summary.name, "recipient_count": summary.members,
            "opted_out_count": summary.opted_out, "created_at": iso(summary.created_at)}


def member(contact: Contact) -> dict:
    return {"phone_number": contact.phone, "name": contact.name or "", "country": contact.country or "",
            "opted_out": contact.opted_out_at is not None, "attributes": contact.attributes or {}}


def sender(row: Sender) -> dict:
    return {"id": row.id, "label": row.label, "phone_number": row.display_phone_number,
            "phone_number_id": row.phone_number_id, "throughput": row.throughput,
            "messaging_limit": row.messaging_limit, "sandbox": bool(row.is_sandbox)}


def template(row: Template) -> dict:
    return {"id": row.id, "name": row.name, "language": row.language, "status": row.status,
            "category": row.category, "parameter_format": row.parameter_format,
            "header": template_variables(row.components, row.parameter_format).header,
            "parameters": [{"key": s.key, "label": s.label} for s in slots(row.components, row.parameter_format)]}

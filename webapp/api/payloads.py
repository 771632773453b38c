"""The JSON the API answers with, one function per kind of thing (their schemas are in schemas.py)."""
from __future__ import annotations

from webapp.api.broadcasts import Acceptance
from webapp.api.recipients import Report
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import slots
from webapp.cloudapi import template_variables
from webapp.contacts.models import Contact
from webapp.extensions import db
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
        "id": campaign.id, "name": campaign.name, "status": campaign.status, "status_label": campaign.label,
        "sender": {"id": campaign.sender.id, "label": campaign.sender.label,
                   "phone_number": campaign.sender.display_phone_number},
        "template": {"name": campaign.template_name, "language": campaign.template_language},
        "audience": {"lists": list(audience.get("lists") or []),
                     "retarget": {"broadcast_id": retarget["campaign_id"], "engagement": retarget["outcome"]}
                     if retarget else None,
                     "direct": bool(audience.get("direct"))},
        "variables": campaign.variables or {}, "button_payloads": campaign.button_payloads or {},
        "header_url": campaign.header_media_url or "",
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


def log_row(row: Recipient) -> dict:
    """A recipient as the log shows it: the columns of webapp/tracking/columns.py the API names."""
    return {column.api: iso(column.value(row)) if column.kind is MOMENT else column.value(row)
            for column in API_COLUMNS}


def number_row(row: Recipient, campaign_name: str) -> dict:
    return {**log_row(row), "broadcast": {"id": row.campaign_id, "name": campaign_name}}


def rates(messages: dict) -> dict:
    """Delivery, read and response rates as the campaign page computes them: percent of messages accepted."""
    return {RATE_NAMES[name]: percent(messages[name], messages[RATE_BASE]) for name in RATE_NAMES}


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
    needs = template_variables(row.components, row.parameter_format)
    return {"id": row.id, "name": row.name, "language": row.language, "status": row.status,
            "category": row.category, "parameter_format": row.parameter_format, "header": needs.header,
            "parameters": [{"key": s.key, "label": s.label} for s in slots(row.components, row.parameter_format)],
            "quick_replies": [{"index": index, "text": label} for index, label in needs.quick_replies]}

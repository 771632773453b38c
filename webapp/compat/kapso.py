"""Kapso's WhatsApp broadcasts under /compat/kapso (seed 004, the capture: later Kapso documents moved on).

A draft is created in the `whatsapp_broadcast` wrapper with the UUIDs of a sender (`whatsapp_config_id`) and a
template (`whatsapp_template_id`); recipients are added in batches of up to 1,000, each with its own
`template_parameters` (positional array, or named object that may carry `header_url` and `header_filename`);
`…/send` launches it; GET polls its progress. Answers are in the `data` envelope; statuses `draft`, `sending`,
`completed` and `failed`. Everything goes through our API's broadcasts (webapp/api/broadcasts.py) and recipients
(webapp/api/recipients.py), so every rule (numbers, parameters checked against the template, opt-outs) is ours.
"""
from __future__ import annotations

import uuid

from flask import request
from sqlalchemy import func, select

from webapp.api import broadcasts, payloads
from webapp.campaigns import services
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.compat.common import CompatApi, Refusal, by_public_id
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import iso
from webapp.workspace.models import WorkspaceSettings

MAX_RECIPIENTS = 1000
STATUS = {"draft": "draft", "scheduled": "draft", "queued": "sending", "sending": "sending", "paused": "sending",
          "sent": "completed", "partially_sent": "completed", "failed": "failed", "cancelled": "failed"}
RECIPIENT_STATUS = {"pending": "pending", "sending": "pending", "unknown": "pending", "accepted": "sent",
                    "sent": "sent", "delivered": "delivered", "read": "read", "replied": "responded",
                    "failed": "failed", "skipped": "failed", "cancelled": "failed"}

STRING = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
COUNT = {"type": "integer", "minimum": 0}
WHEN = {"type": ["string", "null"], "format": "date-time"}


def _obj(properties: dict, required: tuple[str, ...] | None = None) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": list(properties if required is None else required)}


SCHEMAS = {
    "Error": _obj({"error": STRING}),
    "BroadcastCreate": _obj({"whatsapp_broadcast": _obj({
        "name": {"type": "string", "minLength": 1, "maxLength": 200}, "whatsapp_config_id": UUID,
        "whatsapp_template_id": UUID}, required=("whatsapp_config_id", "whatsapp_template_id"))}),
    "RecipientsAdd": _obj({"recipients": {"type": "array", "minItems": 1, "items": _obj({
        "phone_number": STRING,
        "template_parameters": {"oneOf": [{"type": "array", "items": {"type": ["string", "number"]}},
                                          {"type": "object", "additionalProperties": {"type": ["string", "number"]}}],
                                "description": "Positional ({{1}}, {{2}}…) or named, with header_url and "
                                               "header_filename for a media header"}}, required=("phone_number",))}}),
    "Broadcast": _obj({"data": _obj({
        "id": UUID, "name": STRING, "status": {"type": "string", "enum": ["draft", "sending", "completed", "failed"]},
        "total_recipients": COUNT, "sent_count": COUNT, "failed_count": COUNT, "delivered_count": COUNT,
        "read_count": COUNT, "responded_count": COUNT, "pending_count": COUNT, "response_rate": {"type": "number"},
        "started_at": WHEN, "completed_at": WHEN})}),
    "RecipientsAdded": _obj({"data": _obj({"added": COUNT, "duplicates": COUNT,
                                           "errors": {"type": "array", "items": STRING}})}),
    "RecipientPage": _obj({
        "data": {"type": "array", "items": _obj({
            "id": UUID, "phone_number": STRING, "status": {"type": "string", "enum": sorted(set(RECIPIENT_STATUS
                                                                                                .values()))},
            "sent_at": WHEN, "delivered_at": WHEN, "read_at": WHEN, "responded_at": WHEN,
            "error_message": {"type": ["string", "null"]}})},
        "meta": _obj({"page": COUNT, "per_page": COUNT, "total_pages": COUNT, "total_count": COUNT})}),
}

api = CompatApi("kapso", "Kapso", key_header="X-API-Key", schemas=SCHEMAS,
                error=lambda status, message, details: {"error": message},
                description="Kapso's WhatsApp broadcasts: a draft, recipients in batches of up to 1,000, send, poll.")

BROADCASTS = "/api/v1/whatsapp_broadcasts"
ONE = f"{BROADCASTS}/<broadcast_id>"


def _campaign(broadcast_id: str) -> Campaign:
    return by_public_id(Campaign, broadcast_id, f"There is no WhatsApp broadcast {broadcast_id}.")


def _broadcast(campaign: Campaign) -> dict:
    found = counts(db.session, campaign.id)
    failed = found["failed"] + found["skipped"] + found["cancelled"]
    pending = found["queued"] + found["unknown"]
    return {"data": {
        "id": str(campaign.public_id), "name": campaign.name, "status": STATUS[campaign.status],
        "total_recipients": found["total"], "sent_count": found["total"] - failed - pending, "failed_count": failed,
        "delivered_count": found["delivered"], "read_count": found["read"], "responded_count": found["replied"],
        "pending_count": pending, "response_rate": payloads.rates(found)["response_rate"] or 0.0,
        "started_at": iso(campaign.launched_at), "completed_at": iso(campaign.completed_at)}}


@api.route("POST", BROADCASTS, scope="broadcasts:send", body="BroadcastCreate", responses={201: "Broadcast"},
           errors=(422,), summary="Create a draft broadcast of one template from one WhatsApp number")
def create_broadcast(body: dict):
    given = body["whatsapp_broadcast"]
    sender = by_public_id(Sender, given["whatsapp_config_id"], "There is no WhatsApp config with this id.")
    template = by_public_id(Template, given["whatsapp_template_id"], "There is no WhatsApp template with this id.")
    if template.waba_id != sender.waba_id:
        raise Refusal(422, f"The template {template.name} ({template.language}) is not linked to this WhatsApp "
                           f"config's business account.")
    request_body = {"sender_id": sender.id, "template_name": template.name, "language": template.language}
    if given.get("name"):
        request_body["name"] = given["name"]
    created = broadcasts.create(request_body, {}, WorkspaceSettings.get().default_country)
    return _broadcast(created.campaign), 201


@api.route("GET", ONE, scope="broadcasts:read", responses={200: "Broadcast"},
           summary="A broadcast's status and progress: poll until completed_at is set")
def get_broadcast(body: dict, broadcast_id: str):
    return _broadcast(_campaign(broadcast_id))


def _sentence(item: dict, reason: str) -> str:
    """Kapso's words for a refused recipient: a number that is not one, or values that do not fit the template."""
    try:
        normalise(str(item.get("phone_number", "")), WorkspaceSettings.get().default_country)
    except InvalidPhone:
        return "invalid phone number format"
    return f"template parameters invalid - {reason[:1].upper()}{reason[1:]}"


@api.route("POST", f"{ONE}/recipients", scope="broadcasts:send", body="RecipientsAdd",
           responses={200: "RecipientsAdded"}, errors=(409, 422),
           summary="Add up to 1,000 recipients to a draft, each with its template parameters")
def add_recipients(body: dict, broadcast_id: str):
    given = body["recipients"]
    if len(given) > MAX_RECIPIENTS:
        raise Refusal(422, f"At most {MAX_RECIPIENTS:,} recipients per request; this one has {len(given):,}. "
                           "Send them in batches.")
    campaign = _campaign(broadcast_id)
    report = broadcasts.add_to_draft(campaign.id, given, {}, WorkspaceSettings.get().default_country)
    db.session.commit()
    errors = [(e["index"], _sentence(given[e["index"]], e["reason"])) for e in report.errors]
    errors += [(s["index"], "opted out - never sent") for s in report.skipped]
    return {"data": {"added": report.added, "duplicates": report.duplicates,
                     "errors": [f"Recipient {index + 1}: {sentence}" for index, sentence in sorted(errors)]}}


@api.route("POST", f"{ONE}/send", scope="broadcasts:send", responses={200: "Broadcast"}, errors=(409, 422),
           summary="Start sending a draft broadcast in the background")
def send_broadcast(body: dict, broadcast_id: str):
    campaign = _campaign(broadcast_id)
    services.launch(campaign)
    db.session.commit()
    return _broadcast(campaign)


@api.route("GET", f"{ONE}/recipients", scope="broadcasts:read", responses={200: "RecipientPage"},
           query={"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1,
                                                                           "maximum": 100}},
           summary="Each recipient's status, a page at a time")
def list_recipients(body: dict, broadcast_id: str):
    campaign = _campaign(broadcast_id)
    page, per_page = _number("page", 1, 10**6), _number("per_page", 20, 100)
    total = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id)) or 0
    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id).order_by(Recipient.id)
                              .offset((page - 1) * per_page).limit(per_page))
    return {"data": [{
        "id": str(uuid.uuid5(campaign.public_id, str(row.id))), "phone_number": row.phone.lstrip("+"),
        "status": RECIPIENT_STATUS[row.status], "sent_at": iso(row.sent_at or row.accepted_at),
        "delivered_at": iso(row.delivered_at), "read_at": iso(row.read_at), "responded_at": iso(row.replied_at),
        "error_message": (row.error_title or row.skip_reason or None)} for row in rows],
        "meta": {"page": page, "per_page": per_page, "total_pages": -(-total // per_page), "total_count": total}}


def _number(name: str, default: int, most: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise Refusal(400, f"`{name}` is a whole number from 1 to {most:,}.")
    return int(raw)

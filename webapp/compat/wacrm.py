"""Wacrm's Broadcasts API under /compat/wacrm (seed 002 and its published page, as the seeds' README records).

POST /api/v1/broadcasts creates a broadcast of one template to up to 1,000 recipients `{to, params}` and launches
it at once (202); GET /api/v1/broadcasts/{id} polls it by its UUID. Both need the scope `broadcasts:send`, sent
as `Authorization: Bearer <key>`. `params` are the template's body values in order. Numbers that are not valid
phone numbers are dropped and counted as `rejected`; the broadcast is `sending` until every send was attempted,
then `sent`.
"""
from __future__ import annotations

from webapp.api import broadcasts
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import FINISHED_STATES, Campaign
from webapp.campaigns.variables import slots
from webapp.compat.common import CompatApi, by_public_id
from webapp.extensions import db
from webapp.senders.models import Template
from webapp.workspace.models import WorkspaceSettings

MAX_RECIPIENTS = 1000
STRING = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}


def _obj(properties: dict, required: tuple[str, ...] | None = None) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": list(properties if required is None else required)}


SCHEMAS = {
    "Error": _obj({"error": STRING}),
    "BroadcastCreate": _obj({
        "name": {"type": "string", "maxLength": 200, "description": "Optional: generated from the template name."},
        "template_name": {"type": "string", "minLength": 1},
        "template_language": {"type": "string", "minLength": 1, "default": "en_US"},
        "recipients": {"type": "array", "minItems": 1, "maxItems": MAX_RECIPIENTS, "items": _obj({
            "to": {"type": "string", "description": "E.164, e.g. +14155550123"},
            "params": {"type": "array", "items": {"type": ["string", "number"]},
                       "description": "The template's body values, in order."}}, required=("to",))},
    }, required=("template_name", "recipients")),
    "BroadcastCreated": _obj({"data": _obj({
        "broadcast_id": {"type": "string", "format": "uuid"}, "status": {"const": "sending"},
        "total_recipients": COUNT, "accepted": COUNT, "rejected": COUNT})}),
    "Broadcast": _obj({"data": _obj({
        "id": {"type": "string", "format": "uuid"}, "name": STRING,
        "status": {"type": "string", "enum": ["sending", "sent"]},
        "template_name": STRING, "template_language": STRING, "total_recipients": COUNT, "sent_count": COUNT,
        "delivered_count": COUNT, "read_count": COUNT, "replied_count": COUNT, "failed_count": COUNT})}),
}

api = CompatApi("wacrm", "Wacrm", key_header="Authorization", bearer=True, schemas=SCHEMAS,
                error=lambda status, message, details: {"error": message},
                description="Wacrm's Broadcasts API: send one WhatsApp template to up to 1,000 recipients in one "
                            "call, then poll its progress.")


def _body_slots(template: Template) -> list:
    return [slot for slot in slots(template.components, template.parameter_format) if slot.key.startswith("body:")]


@api.route("POST", "/api/v1/broadcasts", scope="broadcasts:send", body="BroadcastCreate",
           responses={202: "BroadcastCreated"}, errors=(422,),
           summary="Create a broadcast and start sending it in the background")
def create_broadcast(body: dict):
    sender = broadcasts.sender_for(None)
    template = broadcasts.template_for(sender, body["template_name"], body.get("template_language") or "en_US")
    body_slots = _body_slots(template)
    recipients, item_errors = [], {}
    for index, item in enumerate(body["recipients"]):
        params = item.get("params") or []
        if len(params) != len(body_slots):
            item_errors[index] = f"the template's body takes {len(body_slots)} values; {len(params)} given"
        # Wacrm's params are the body's values in order: ours by slot key, so header and buttons need none
        recipients.append({"phone_number": item["to"],
                           "template_parameters": {slot.key: value for slot, value in zip(body_slots, params)}})
    request = {"template_name": template.name, "language": template.language, "sender_id": sender.id,
               "recipients": recipients, "send": True}
    if body.get("name"):
        request["name"] = body["name"]
    created = broadcasts.create(request, item_errors, WorkspaceSettings.get().default_country)
    report = created.taken.report
    return {"data": {"broadcast_id": str(created.campaign.public_id), "status": "sending",
                     "total_recipients": len(body["recipients"]), "accepted": report.added,
                     "rejected": len(report.errors) + len(report.skipped)}}, 202


@api.route("GET", "/api/v1/broadcasts/<broadcast_id>", scope="broadcasts:send", responses={200: "Broadcast"},
           summary="A broadcast's state and delivery statistics")
def get_broadcast(body: dict, broadcast_id: str):
    campaign = by_public_id(Campaign, broadcast_id, "There is no broadcast with this id.")
    found = counts(db.session, campaign.id)
    return {"data": {
        "id": str(campaign.public_id), "name": campaign.name,
        "status": "sent" if campaign.status in FINISHED_STATES else "sending",
        "template_name": campaign.template_name, "template_language": campaign.template_language,
        "total_recipients": found["total"], "sent_count": found["accepted"], "delivered_count": found["delivered"],
        "read_count": found["read"], "replied_count": found["replied"], "failed_count": found["failed"]}}


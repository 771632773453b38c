"""/compat/crm/v1/broadcasts: the CRM's v1 broadcasts API (seed 001), spoken on top of our broadcasts.

Each request is translated into our API's fields and handed to webapp/api/broadcasts.py (create, update, the
index's filters), which calls the campaign services; each answer is our campaign in the CRM's shape. Ids are
public UUIDs: a broadcast's, a `location`'s (our sender numbers) and a segment's — `segments[].id` is one of our
segments' or contact lists' public id. The CRM has no send call: a broadcast created (or replaced with PUT) with a
`scheduleDateTime` is scheduled, one with `"status": "draft"` stays a draft, any other is sent at once.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import phonenumbers
from flask import request
from sqlalchemy import select

from webapp.api import broadcasts
from webapp.audience.models import Segment
from webapp.campaigns import services
from webapp.campaigns.audience import OUTCOMES
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import RECIPIENT_STATES, Campaign, Recipient
from webapp.campaigns.variables import slots
from webapp.compat.common import CompatApi, Refusal, by_public_id
from webapp.contacts.models import ContactList
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import iso
from webapp.tracking.columns import calling_code
from webapp.workspace.models import WorkspaceSettings

# Fields of the CRM we cannot honour: refused by name (422), never ignored. null counts as absent, so a GET's
# answer can be PUT back.
REFUSED = {"locationParameters": "location headers are not sendable here",
           "flowParameters": "flow buttons are not sendable here",
           "targetClass": "contacts have no classes here; choose them with segments"}
PARAMETER_FIELDS = {"header": "headerTextParameters", "body": "bodyTextParameters", "button": "buttonUrlParameters"}
MOST_PER_PAGE = 1000


# --- The document -------------------------------------------------------------------------------------

def _text(nullable: bool = False) -> dict:
    return {"type": ["string", "null"] if nullable else "string"}


_ID = {"type": "object", "required": ["id"], "properties": {"id": _text()}, "additionalProperties": False}
_TEXTS = {"type": "array", "items": _text()}

BROADCAST_IN = {
    "type": "object", "required": ["name", "type", "template"], "additionalProperties": False,
    "properties": {
        "id": _text(True), "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "type": {"enum": ["client"], "description": "Who the broadcast goes to: contacts (`client`)."},
        "status": {"type": ["string", "null"], "description": "`draft` keeps it a draft; otherwise read only."},
        "segments": {"type": "array", "items": _ID,
                     "description": "Our segments' or contact lists' public ids: one segment, or lists."},
        "targetClass": {"description": "Refused (422) unless null: contacts have no classes here."},
        "targetClassStatus": {"enum": ["ALL", None]},
        "retargetBroadcast": {"oneOf": [_ID, {"type": "null"}]},
        "retargetEngagementType": {"enum": [*OUTCOMES, None]},
        "scheduleDateTime": {"type": ["string", "null"], "description": "UTC, ISO 8601; absent: sent at once."},
        "startedAt": _text(True), "completedAt": _text(True),
        "template": {"type": "object", "required": ["name"], "additionalProperties": False,
                     "properties": {"name": {"type": "string", "minLength": 1}, "language": _text(True)}},
        "headerMediaUrl": _text(True), "headerTextParameters": _TEXTS, "bodyTextParameters": _TEXTS,
        "buttonUrlParameters": _TEXTS,
        "locationParameters": {"description": "Refused (422) unless null: location headers are not sendable."},
        "flowParameters": {"description": "Refused (422) unless null: flow buttons are not sendable."},
        "location": {"oneOf": [_ID, {"type": "null"}], "description": "A sender number's public id."},
        "processedStats": {"type": ["object", "null"]}, "deliveryStats": {"type": ["object", "null"]},
    },
}


def _counts(*names: str) -> dict:
    return {"type": "object", "required": list(names), "additionalProperties": False,
            "properties": {name: {"type": "integer"} for name in names}}


BROADCAST_OUT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "name", "type", "status", "segments", "targetClass", "targetClassStatus", "retargetBroadcast",
                 "retargetEngagementType", "scheduleDateTime", "startedAt", "completedAt", "template",
                 "headerMediaUrl", "headerTextParameters", "bodyTextParameters", "buttonUrlParameters",
                 "locationParameters", "flowParameters", "location", "processedStats", "deliveryStats"],
    "properties": {
        "id": _text(), "name": _text(), "type": {"enum": ["client"]}, "status": _text(),
        "segments": {"type": "array", "items": _ID}, "targetClass": {"type": "null"},
        "targetClassStatus": {"enum": ["ALL"]}, "retargetBroadcast": {"oneOf": [_ID, {"type": "null"}]},
        "retargetEngagementType": {"enum": [*OUTCOMES, None]}, "scheduleDateTime": _text(True),
        "startedAt": _text(True), "completedAt": _text(True),
        "template": {"type": "object", "required": ["name", "language"], "additionalProperties": False,
                     "properties": {"name": _text(), "language": _text()}},
        "headerMediaUrl": _text(True), "headerTextParameters": _TEXTS, "bodyTextParameters": _TEXTS,
        "buttonUrlParameters": _TEXTS, "locationParameters": {"type": "null"}, "flowParameters": {"type": "null"},
        "location": _ID, "processedStats": _counts("totalCount", "successCount", "failureCount"),
        "deliveryStats": _counts("sentCount", "deliveredCount", "readCount", "failedCount", "repliedCount"),
    },
}

LOGS_OUT = {"type": "array", "items": {"$ref": "#/components/schemas/Log"}}
LOG_OUT = {
    "type": "object", "additionalProperties": False,
    "required": ["broadcast", "recepientName", "countryCode", "phone", "status", "reply", "error", "createdAt",
                 "updatedAt"],
    "properties": {
        "broadcast": {"type": "object", "required": ["id", "name"], "additionalProperties": False,
                      "properties": {"id": _text(), "name": _text()}},
        "recepientName": _text(), "countryCode": _text(),
        "phone": {"type": "string", "description": "The number without its country code."},
        "status": {"enum": list(RECIPIENT_STATES)}, "reply": _text(True), "error": _text(True),
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
    },
}


SCHEMAS = {
    "Error": {"type": "object", "required": ["success", "message"], "additionalProperties": False,
              "properties": {"success": {"const": False}, "message": _text(), "details": {}}},
    "BroadcastInput": BROADCAST_IN, "Broadcast": BROADCAST_OUT,
    "Broadcasts": {"type": "array", "items": {"$ref": "#/components/schemas/Broadcast"}},
    "Deleted": {"type": "object", "required": ["success"], "additionalProperties": False,
                "properties": {"success": {"const": True}}},
    "Log": LOG_OUT, "Logs": LOGS_OUT,
}

api = CompatApi("crm", "CRM v1 broadcasts", key_header="x-api-key", schemas=SCHEMAS,
                error=lambda status, message, details: {"success": False, "message": message,
                                                        **({"details": details} if details else {})},
                description="The CRM's v1 Broadcasts CRUD: template broadcasts to segments or contact lists, "
                            "scheduled in UTC or sent at once, with their processing and delivery figures and "
                            "per-recipient logs. Ids are this server's public UUIDs.")

PAGING = {"page": {"type": "string", "description": "1, 2, …"},
          "limit": {"type": "string", "description": f"Items a page, 1 to {MOST_PER_PAGE} (20 by default)."}}


# --- Requests to our API's fields -------------------------------------------------------------------

def _referenced(model, value: str, field: str, what: str):
    """A row the body names by public id; none is the body's fault (422), not a missing resource."""
    try:
        return by_public_id(model, value, "")
    except Refusal:
        raise Refusal(422, f"{field}: there is no {what} {value}.", {"field": field}) from None


def _refused(body: Mapping) -> None:
    named = [name for name in REFUSED if body.get(name) is not None]
    if named:
        raise Refusal(422, "This server cannot honour " + ", ".join(named) + ": "
                      + "; ".join(REFUSED[name] for name in named) + ". Leave them out (or null).",
                      {"fields": named})


def _audience(body: Mapping) -> dict:
    """segments[] as our list_ids or segment_id; retargetBroadcast as our retarget."""
    if body.get("retargetBroadcast"):
        if body.get("segments"):
            raise Refusal(422, "Give segments or retargetBroadcast, not both.", {"field": "retargetBroadcast"})
        if not body.get("retargetEngagementType"):
            raise Refusal(422, "retargetEngagementType: say which of its recipients to send to ("
                               + ", ".join(OUTCOMES) + ").", {"field": "retargetEngagementType"})
        source = _referenced(Campaign, body["retargetBroadcast"]["id"], "retargetBroadcast.id", "broadcast")
        return {"retarget": {"broadcast_id": source.id, "engagement": body["retargetEngagementType"]}}
    lists, segments = [], []
    for index, item in enumerate(body.get("segments") or []):
        try:
            found = _referenced(ContactList, item["id"], "", "")
        except Refusal:
            found = _referenced(Segment, item["id"], f"segments[{index}].id", "segment or contact list")
        (lists if isinstance(found, ContactList) else segments).append(found.id)
    if segments and (lists or len(segments) > 1):
        raise Refusal(422, "segments: give one segment, or contact lists — a broadcast has one audience.",
                      {"field": "segments"})
    if segments:
        return {"segment_id": segments[0]}
    if lists:
        return {"list_ids": lists}
    raise Refusal(422, "segments: name at least one segment or contact list (or a retargetBroadcast).",
                  {"field": "segments"})


def _parameters(template: Template, body: Mapping) -> list[str] | None:
    """header, body and button URL values as our positional template_parameters (the template's slot order)."""
    if not any(name in body for name in PARAMETER_FIELDS.values()):
        return None
    given = []
    for group, field in PARAMETER_FIELDS.items():
        wanted = [slot for slot in slots(template.components, template.parameter_format)
                  if slot.key.split(":")[0] == group]
        values = body.get(field) or []
        if len(values) != len(wanted):
            raise Refusal(422, f"{field}: {template.name} takes {len(wanted)} "
                               f"({', '.join(s.label for s in wanted) or 'none'}), not {len(values)}.",
                          {"field": field})
        given += values
    return given


def ours(body: Mapping, campaign: Campaign | None = None) -> dict:
    """A create or PUT body of the CRM as our API's: what it asks for, sent at once unless scheduled or a draft."""
    _refused(body)
    location = body.get("location")
    sender = _referenced(Sender, location["id"], "location.id", "location") if location \
        else broadcasts.sender_for(campaign.sender_id if campaign else None)
    template = broadcasts.template_for(sender, body["template"]["name"], body["template"].get("language"))
    translated = {"name": body["name"], "sender_id": sender.id, "template_name": template.name,
                  "language": template.language, "header_url": body.get("headerMediaUrl") or "",
                  **_audience(body)}
    parameters = _parameters(template, body)
    if parameters is not None:
        translated["template_parameters"] = parameters
    moment = body.get("scheduleDateTime")
    if moment:
        moment = moment if _zoned(moment) else moment + "+00:00"  # the CRM's times are UTC
        translated["schedule_at"] = broadcasts.when(moment, "scheduleDateTime").isoformat()  # named as the CRM does
    elif campaign is not None:
        translated["schedule_at"] = None
    if not moment and body.get("status") != "draft":
        translated["send"] = True
    return translated


def _zoned(moment: str) -> bool:
    try:
        return datetime.fromisoformat(moment).tzinfo is not None
    except ValueError:
        return True  # broadcasts.when says what is wrong with it


# --- Our campaigns in the CRM's shape ---------------------------------------------------------------

def _public_ids(model, ids) -> list[str]:
    return [str(value) for value in db.session.scalars(select(model.public_id).where(model.id.in_(list(ids)))
                                                       .order_by(model.id))]


def _values(campaign: Campaign) -> dict[str, list[str]]:
    """The constant values of the header, body and button URL slots (others, from a contact's fields: "")."""
    variables = campaign.variables or {}
    found: dict[str, list[str]] = {group: [] for group in PARAMETER_FIELDS}
    for slot in slots(campaign.template_components or [], campaign.parameter_format):
        mapping = variables.get(slot.key) or {}
        found[slot.key.split(":")[0]].append(mapping.get("value", "") if mapping.get("source") == "constant" else "")
    return {PARAMETER_FIELDS[group]: values for group, values in found.items()}


def broadcast(campaign: Campaign) -> dict:
    audience = campaign.audience or {}
    retarget, segment = audience.get("retarget"), audience.get("segment")
    segments = _public_ids(Segment, [segment["id"]]) if segment else \
        _public_ids(ContactList, audience.get("lists") or [])
    source = db.session.get(Campaign, retarget["campaign_id"]) if retarget else None
    found = counts(db.session, campaign.id)
    return {
        "id": str(campaign.public_id), "name": campaign.name, "type": "client", "status": campaign.status,
        "segments": [{"id": value} for value in segments], "targetClass": None, "targetClassStatus": "ALL",
        "retargetBroadcast": {"id": str(source.public_id)} if source else None,
        "retargetEngagementType": retarget["outcome"] if retarget else None,
        "scheduleDateTime": iso(campaign.scheduled_at), "startedAt": iso(campaign.started_at),
        "completedAt": iso(campaign.completed_at),
        "template": {"name": campaign.template_name, "language": campaign.template_language},
        "headerMediaUrl": campaign.header_media_url or None, **_values(campaign),
        "locationParameters": None, "flowParameters": None, "location": {"id": str(campaign.sender.public_id)},
        "processedStats": {"totalCount": found["total"], "successCount": found["accepted"],
                           "failureCount": found["failed"] + found["skipped"]},
        "deliveryStats": {"sentCount": found["sent"], "deliveredCount": found["delivered"],
                          "readCount": found["read"], "failedCount": found["failed"],
                          "repliedCount": found["replied"]},
    }


def _national(row: Recipient) -> str:
    try:
        return str(phonenumbers.parse(row.phone).national_number)
    except phonenumbers.NumberParseException:
        return row.phone.lstrip("+")


def log(row: Recipient, campaign: Campaign) -> dict:
    moments = [row.created_at, row.accepted_at, row.sent_at, row.delivered_at, row.read_at, row.replied_at,
               row.failed_at]
    error = " — ".join(part for part in (row.error_title, row.error_detail) if part) or row.skip_reason
    return {"broadcast": {"id": str(campaign.public_id), "name": campaign.name}, "recepientName": row.name,
            "countryCode": calling_code(row), "phone": _national(row), "status": row.status,
            "reply": row.reply_text or row.reply_button or None, "error": error or None,
            "createdAt": iso(row.created_at), "updatedAt": iso(max(m for m in moments if m is not None))}


# --- The endpoints ------------------------------------------------------------------------------------

def _campaign(broadcast_id: str) -> Campaign:
    return by_public_id(Campaign, broadcast_id, f"There is no broadcast {broadcast_id}.")


def _page() -> tuple[int, int]:
    values = {}
    for name, default, most in (("page", 1, 1_000_000), ("limit", 20, MOST_PER_PAGE)):
        raw = request.args.get(name, "").strip()
        if raw and not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= most):
            raise Refusal(400, f"{name} is a whole number from 1 to {most:,}, not {raw!r}.", {"field": name})
        values[name] = int(raw) if raw else default
    return values["page"], values["limit"]


def _moment(name: str, end: bool = False):
    """startDate / endDate: a date (endDate's whole day included) or a date-time, UTC when it names no zone."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    moment = broadcasts.when(raw if _zoned(raw) else (raw if "T" in raw else raw + "T00:00:00") + "+00:00", name)
    return moment + timedelta(days=1) if end and "T" not in raw else moment


@api.route("GET", "/v1/broadcasts", scope="broadcasts:read", responses={200: "Broadcasts"}, errors=(400, 422),
           summary="Broadcasts, newest first: created in [startDate, endDate], by name and location",
           query={**PAGING, "startDate": {"type": "string"}, "endDate": {"type": "string"},
                  "searchText": {"type": "string"}, "locationId": {"type": "string"}})
def list_broadcasts(body: dict):
    page, limit = _page()
    location = request.args.get("locationId", "").strip()
    sender_id = _referenced(Sender, location, "locationId", "location").id if location else None
    query = broadcasts.filtered("", _moment("startDate"), _moment("endDate", end=True),
                                request.args.get("searchText", ""), sender_id)
    return [broadcast(campaign) for campaign in broadcasts.page(query, page, limit).items]


@api.route("POST", "/v1/broadcasts", scope="broadcasts:send", body="BroadcastInput", responses={200: "Broadcast"},
           errors=(409, 422), summary="Create a broadcast: sent at once, scheduled, or a draft")
def create_broadcast(body: dict):
    created = broadcasts.create(ours(body), {}, WorkspaceSettings.get().default_country)
    return broadcast(created.campaign)


@api.route("GET", "/v1/broadcasts/<broadcastId>", scope="broadcasts:read", responses={200: "Broadcast"},
           summary="A broadcast with its figures")
def get_broadcast(body: dict, broadcastId: str):  # noqa: N803 - the seed's parameter name
    return broadcast(_campaign(broadcastId))


@api.route("PUT", "/v1/broadcasts/<broadcastId>", scope="broadcasts:send", body="BroadcastInput",
           responses={200: "Broadcast"}, errors=(409, 422),
           summary="Replace a draft or scheduled broadcast: a draft, scheduled, or sent now")
def update_broadcast(body: dict, broadcastId: str):  # noqa: N803
    campaign = _campaign(broadcastId)
    translated = ours(body, campaign)
    send = translated.pop("send", False)
    campaign = broadcasts.update(campaign.id, translated)
    if send:
        services.launch(campaign)
        db.session.commit()
    return broadcast(campaign)


@api.route("DELETE", "/v1/broadcasts/<broadcastId>", scope="broadcasts:send", responses={200: "Deleted"},
           errors=(409,), summary="Delete a draft or scheduled broadcast (one that started: 409)")
def delete_broadcast(body: dict, broadcastId: str):  # noqa: N803
    services.delete(_campaign(broadcastId))
    db.session.commit()
    return {"success": True}


@api.route("GET", "/v1/broadcasts/<broadcastId>/logs", scope="broadcasts:read", responses={200: "Logs"},
           errors=(400,), query=PAGING, summary="A broadcast's recipients in send order, `limit` a page")
def broadcast_logs(body: dict, broadcastId: str):  # noqa: N803
    campaign = _campaign(broadcastId)
    page, limit = _page()
    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id).order_by(Recipient.id)
                              .offset((page - 1) * limit).limit(limit))
    return [log(row, campaign) for row in rows]

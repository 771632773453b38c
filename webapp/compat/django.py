"""/compat/django/broadcast/: the multi-platform (Django) broadcast API (seed 003), spoken on top of our broadcasts.

Broadcasts are ours by their public UUID; `recipients` are contacts' public UUIDs, added one by one as our API's
inline recipients (webapp/api/broadcasts.py create and update, webapp/api/recipients.py); messages are our
recipient rows. Statuses are the seed's upper-case words; a paused broadcast reads QUEUED (waiting to go on).
The seed has no send call: `"status": "QUEUED"` on create or PUT sends it now, a `scheduled_at` schedules it,
`"status": "CANCELLED"` cancels it, otherwise it is a draft.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import request, url_for
from sqlalchemy import func, select

from webapp.api import broadcasts
from webapp.api.recipients import add as add_recipients
from webapp.api.schemas import MAX_RECIPIENTS
from webapp.campaigns import services
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.links import public_url
from webapp.campaigns.models import RECIPIENT_STATES, Campaign, Recipient, TrackedLink
from webapp.compat.common import CompatApi, Refusal, by_public_id
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.public_ids import parse
from webapp.timestamps import ISO_SCHEMA, iso
from webapp.tracking.clicks import links_clicked
from webapp.workspace.models import WorkspaceSettings

PLATFORMS = ("WHATSAPP", "TELEGRAM", "SMS", "RCS")  # the seed's; this server has WhatsApp only
OURS = ("WHATSAPP",)
STATUS = {"draft": "DRAFT", "scheduled": "SCHEDULED", "queued": "QUEUED", "paused": "QUEUED", "sending": "SENDING",
          "sent": "SENT", "partially_sent": "PARTIALLY_SENT", "failed": "FAILED", "cancelled": "CANCELLED"}
DISPLAY = {"DRAFT": "Draft", "SCHEDULED": "Scheduled", "QUEUED": "Ongoing", "SENDING": "Ongoing", "SENT": "Completed",
           "PARTIALLY_SENT": "Completed", "FAILED": "Failed", "CANCELLED": "Cancelled"}
ASKED = ("DRAFT", "SCHEDULED", "QUEUED", "CANCELLED")  # the statuses a client may ask for; the others are ours to set
MESSAGE_STATUS = [state.upper() for state in RECIPIENT_STATES]
PAGE_SIZE, MOST_PER_PAGE = 20, 100

# --- The document -------------------------------------------------------------------------------------

_UUID = {"type": "string", "format": "uuid"}
_MOMENT = ISO_SCHEMA

BROADCAST_IN = {
    "type": "object", "required": ["name", "template_name"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "platform": {"type": "string", "description": "WHATSAPP (the default): the only platform this server has."},
        "template_name": {"type": "string", "minLength": 1},
        "language": {"type": "string", "description": "The template's language; en_US or its only one by default."},
        "template_parameters": {"type": ["array", "object"], "description": "The template's values for everyone "
                                "(not in the seed): in slot order, or by name, as in /api/v1."},
        "recipients": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_RECIPIENTS,
                       "description": "Contacts' UUIDs. On PUT, the ones not yet in the broadcast are added."},
        "scheduled_at": {"type": ["string", "null"], "description": "ISO 8601 with its zone; null unschedules."},
        "status": {"enum": list(ASKED), "description": "QUEUED sends now, CANCELLED cancels; else set by the server."},
    },
}

BROADCAST_OUT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "name", "platform", "template_name", "language", "recipients", "scheduled_at", "status",
                 "status_display", "total_recipients", "sent_count", "delivered_count", "read_count",
                 "failed_count", "created_at", "updated_at", "started_at", "completed_at"],
    "properties": {
        "id": _UUID, "name": {"type": "string"}, "platform": {"enum": list(OURS)},
        "template_name": {"type": "string"}, "language": {"type": "string"},
        "recipients": {"type": "array", "items": _UUID,
                       "description": "The contacts added one by one ([] for a broadcast to lists or a segment)."},
        "scheduled_at": _MOMENT, "status": {"enum": list(DISPLAY)}, "status_display": {"enum": sorted(set(
            DISPLAY.values()))},
        **{name: {"type": "integer"} for name in ("total_recipients", "sent_count", "delivered_count", "read_count",
                                                   "failed_count")},
        "created_at": _MOMENT, "updated_at": _MOMENT, "started_at": _MOMENT, "completed_at": _MOMENT,
    },
}

MESSAGE_OUT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "broadcast", "contact", "phone_number", "status", "error_message", "created_at", "sent_at",
                 "delivered_at", "read_at", "failed_at"],
    "properties": {
        "id": {"type": "integer"}, "broadcast": _UUID, "contact": {"type": ["string", "null"], "format": "uuid"},
        "phone_number": {"type": "string"}, "status": {"enum": MESSAGE_STATUS},
        "error_message": {"type": ["string", "null"]}, "created_at": _MOMENT,
        "sent_at": {**_MOMENT, "description": "When the Cloud API took it."}, "delivered_at": _MOMENT,
        "read_at": _MOMENT, "failed_at": _MOMENT,
    },
}


def paginated(item: dict) -> dict:
    return {"type": "object", "required": ["count", "next", "previous", "results"], "additionalProperties": False,
            "properties": {"count": {"type": "integer"}, "next": {"type": ["string", "null"]},
                           "previous": {"type": ["string", "null"]}, "results": {"type": "array", "items": item}}}


FIGURES = ("sent", "delivered", "read", "failed", "replied")
_COUNTS = {name: {"type": "integer"} for name in FIGURES}
DASHBOARD_ROW = {"type": "object", "additionalProperties": False,
                 "required": ["id", "name", "status", "total_recipients", *FIGURES],
                 "properties": {"id": _UUID, "name": {"type": "string"}, "status": {"enum": list(DISPLAY)},
                                "total_recipients": {"type": "integer"}, **_COUNTS}}
DASHBOARD = {**paginated(DASHBOARD_ROW)}
DASHBOARD["required"] = [*DASHBOARD["required"], "totals", "by_status"]
DASHBOARD["properties"] = {**DASHBOARD["properties"], "by_status": {
    "type": "object", "additionalProperties": False, "required": list(DISPLAY),
    "properties": {word: {"type": "integer"} for word in DISPLAY}}, "totals": {
    "type": "object", "additionalProperties": False, "required": ["broadcasts", "total_recipients", *FIGURES],
    "properties": {"broadcasts": {"type": "integer"}, "total_recipients": {"type": "integer"}, **_COUNTS}}}

LINK_OUT = {
    "type": "object", "additionalProperties": False,
    "required": ["id", "broadcast", "variable", "url", "tracking_url", "clicks", "unique_clicks"],
    "properties": {
        "id": {"type": "integer"},
        "broadcast": {"type": ["string", "null"], "format": "uuid",
                      "description": "Null once the broadcast is deleted (its links still redirect)."},
        "variable": {"type": "string", "description": "The template's variable the link is in: body:2, button:0."},
        "url": {"type": ["string", "null"], "description": "Where it leads; null when each recipient's own."},
        "tracking_url": {"type": "string", "description": "The address customers get, {code} being theirs."},
        "clicks": {"type": "integer"}, "unique_clicks": {"type": "integer", "description": "Recipients who clicked."},
    },
}

SCHEMAS = {
    "Error": {"type": "object", "required": ["detail"], "additionalProperties": False,
              "properties": {"detail": {"type": "string"}, "errors": {}}},
    "BroadcastInput": BROADCAST_IN, "Broadcast": BROADCAST_OUT, "BroadcastPage": paginated(
        {"$ref": "#/components/schemas/Broadcast"}),
    "Message": MESSAGE_OUT, "MessagePage": paginated({"$ref": "#/components/schemas/Message"}),
    "Dashboard": DASHBOARD, "TrackedLink": LINK_OUT, "TrackedLinkPage": paginated(
        {"$ref": "#/components/schemas/TrackedLink"}),
}

api = CompatApi("django", "Multi-platform broadcasts (Django)", key_header="Authorization", bearer=True,
                schemas=SCHEMAS, error=lambda status, message, details: {"detail": message,
                                                                        **({"errors": details} if details else {})},
                description="The multi-platform broadcast API's broadcasts (WhatsApp here), their lifecycle and "
                            "their per-recipient messages. Ids are this server's public UUIDs.")
PAGING = {"page": {"type": "integer", "minimum": 1},
          "page_size": {"type": "integer", "minimum": 1, "maximum": MOST_PER_PAGE, "default": PAGE_SIZE}}


# --- Requests to our API's fields -------------------------------------------------------------------

def _checked(body: Mapping) -> Mapping:
    platform = body.get("platform", "WHATSAPP")
    if platform not in OURS:
        known = f"{platform} is not set up" if platform in PLATFORMS else f"{platform!r} is not a platform"
        raise Refusal(422, f"platform: this server sends on {', '.join(OURS)} only ({known}).",
                      {"field": "platform", "platforms": list(OURS)})
    if body.get("status") == "SCHEDULED" and not body.get("scheduled_at"):
        raise Refusal(400, "status SCHEDULED needs scheduled_at.", {"field": "scheduled_at"})
    if body.get("status") == "QUEUED" and body.get("scheduled_at"):
        raise Refusal(400, "status QUEUED sends now: leave scheduled_at out.", {"field": "scheduled_at"})
    return body


def _contacts(values: list[str]) -> list[int]:
    """Contacts' ids for their UUIDs, in the order given; any unknown one refuses the whole request."""
    wanted = {value: parse(value) for value in dict.fromkeys(values)}
    found = dict(db.session.execute(select(Contact.public_id, Contact.id).where(
        Contact.public_id.in_([uuid for uuid in wanted.values() if uuid is not None]))).all())
    unknown = [value for value, uuid in wanted.items() if uuid not in found]
    if unknown:
        raise Refusal(400, "recipients: no contact has the id " + ", ".join(unknown[:5])
                      + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "") + ".",
                      {"field": "recipients", "unknown": unknown[:100]})
    return [found[uuid] for uuid in wanted.values()]


def ours(body: Mapping) -> dict:
    translated = {"name": body["name"], "template_name": body["template_name"]}
    if body.get("language"):
        translated["language"] = body["language"]
    if "template_parameters" in body:
        translated["template_parameters"] = body["template_parameters"]
    if body.get("scheduled_at"):
        translated["schedule_at"] = broadcasts.when(body["scheduled_at"], "scheduled_at").isoformat()
    return translated


# --- Our campaigns in the seed's shape ----------------------------------------------------------------

def _recipients(campaign: Campaign) -> list[str]:
    """The contacts of a broadcast made of recipients added one by one; [] for one to lists or a segment."""
    audience = campaign.audience or {}
    if not audience.get("direct") or any(audience.get(kind) for kind in broadcasts.AUDIENCES):
        return []
    return [str(value) for value in db.session.scalars(
        select(Contact.public_id).join(Recipient, Recipient.contact_id == Contact.id)
        .where(Recipient.campaign_id == campaign.id).order_by(Recipient.id))]


def broadcast(campaign: Campaign) -> dict:
    found = counts(db.session, campaign.id)
    status = STATUS[campaign.status]
    return {"id": str(campaign.public_id), "name": campaign.name, "platform": "WHATSAPP",
            "template_name": campaign.template_name, "language": campaign.template_language,
            "recipients": _recipients(campaign), "scheduled_at": iso(campaign.scheduled_at), "status": status,
            "status_display": DISPLAY[status], "total_recipients": found["total"], "sent_count": found["accepted"],
            "delivered_count": found["delivered"], "read_count": found["read"], "failed_count": found["failed"],
            "created_at": iso(campaign.created_at), "updated_at": iso(campaign.updated_at),
            "started_at": iso(campaign.started_at), "completed_at": iso(campaign.completed_at)}


def _figures(found: dict) -> dict:
    """sent: accepted by the Cloud API (Meta's own "sent" status follows); the others as Meta reports them."""
    return {"sent": found["accepted"], "delivered": found["delivered"], "read": found["read"],
            "failed": found["failed"], "replied": found["replied"]}


def dashboard_row(campaign: Campaign) -> dict:
    found = counts(db.session, campaign.id)
    return {"id": str(campaign.public_id), "name": campaign.name, "status": STATUS[campaign.status],
            "total_recipients": found["total"], **_figures(found)}


def message(row: Recipient, broadcast_id, contact_id) -> dict:
    error = " — ".join(part for part in (row.error_title, row.error_detail) if part) or row.skip_reason
    return {"id": row.id, "broadcast": str(broadcast_id), "contact": str(contact_id) if contact_id else None,
            "phone_number": row.phone, "status": row.status.upper(), "error_message": error or None,
            "created_at": iso(row.created_at), "sent_at": iso(row.accepted_at), "delivered_at": iso(row.delivered_at),
            "read_at": iso(row.read_at), "failed_at": iso(row.failed_at)}


# --- The endpoints ------------------------------------------------------------------------------------

def _campaign(broadcast_id: str) -> Campaign:
    return by_public_id(Campaign, broadcast_id, "No Broadcast matches the given query.")


def _page(query, shape) -> dict:
    """DRF's page: `page` and `page_size`, `count`, and the next and previous pages' links."""
    numbers = {}
    for name, default, most in (("page", 1, 1_000_000), ("page_size", PAGE_SIZE, MOST_PER_PAGE)):
        raw = request.args.get(name, "").strip()
        if raw and not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= most):
            raise Refusal(404 if name == "page" else 400, f"Invalid {name} {raw!r}: a whole number from 1 to "
                                                           f"{most:,}.")
        numbers[name] = int(raw) if raw else default
    number, size = numbers["page"], numbers["page_size"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if number > 1 and (number - 1) * size >= total:
        raise Refusal(404, "Invalid page.")
    rows = db.session.execute(query.offset((number - 1) * size).limit(size)).all()

    def link(to: int) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **{**request.args.to_dict(), "page": to},
                       _external=True)

    return {"count": total, "next": link(number + 1) if number * size < total else None,
            "previous": link(number - 1) if number > 1 else None, "results": [shape(*row) for row in rows]}


@api.route("GET", "/broadcast/", scope="broadcasts:read", responses={200: "BroadcastPage"}, errors=(400,),
           query=PAGING, summary="List broadcasts, newest first")
def list_broadcasts(body: dict):
    query = broadcasts.filtered().order_by(Campaign.created_at.desc(), Campaign.id.desc())
    return _page(query, broadcast)


@api.route("GET", "/broadcast/dashboard/", scope="broadcasts:read", responses={200: "Dashboard"}, errors=(400,),
           query=PAGING, summary="Campaign analytics dashboard: sent, delivered, read and failed counts per broadcast")
def dashboard(body: dict):
    """Every broadcast's figures, newest first a page at a time, with their totals and how many are in each status
    (webapp/api/broadcasts.py totals: two aggregate queries)."""
    query = broadcasts.filtered()
    by_status, messages = broadcasts.totals(query)
    words = {word: 0 for word in DISPLAY}
    for state, number in by_status.items():
        words[STATUS[state]] += number
    page = _page(query.order_by(Campaign.created_at.desc(), Campaign.id.desc()), dashboard_row)
    return {**page, "by_status": words, "totals": {"broadcasts": sum(by_status.values()),
                                                   "total_recipients": messages["total"], **_figures(messages)}}


@api.route("POST", "/broadcast/", scope="broadcasts:send", body="BroadcastInput", responses={201: "Broadcast"},
           errors=(409, 422), summary="Create a broadcast: a draft, scheduled, or QUEUED (sent now)")
def create_broadcast(body: dict):
    _checked(body)
    if body.get("status") == "CANCELLED":
        raise Refusal(400, "status: a new broadcast cannot be CANCELLED; create it as a DRAFT.", {"field": "status"})
    translated = {**ours(body), "recipients": _contacts(body.get("recipients") or []),
                  "send": body.get("status") == "QUEUED"}
    created = broadcasts.create(translated, {}, WorkspaceSettings.get().default_country)
    return broadcast(created.campaign), 201


@api.route("GET", "/broadcast/<id>/", scope="broadcasts:read", responses={200: "Broadcast"},
           summary="Get broadcast details")
def get_broadcast(body: dict, id: str):  # noqa: A002 - the seed's parameter name
    return broadcast(_campaign(id))


@api.route("PUT", "/broadcast/<id>/", scope="broadcasts:send", body="BroadcastInput", responses={200: "Broadcast"},
           errors=(409, 422), summary="Update a broadcast: its fields (draft or scheduled), QUEUED sends it, "
                                      "CANCELLED cancels it")
def update_broadcast(body: dict, id: str):  # noqa: A002
    """Recipients can be added, not taken out; a PUT without scheduled_at unschedules."""
    _checked(body)
    campaign = _campaign(id)
    if body.get("status") == "CANCELLED":
        services.cancel(campaign)
        db.session.commit()
        db.session.refresh(campaign)
        return broadcast(campaign)
    wanted = _contacts(body.get("recipients") or [])
    present = set(db.session.scalars(select(Recipient.contact_id).where(Recipient.campaign_id == campaign.id)))
    dropped = present - set(wanted) - {None}
    if "recipients" in body and dropped:
        raise Refusal(400, f"recipients: {len(dropped)} contact(s) already in the broadcast are missing; recipients "
                           "can be added, not taken out (create a new broadcast instead).", {"field": "recipients"})
    campaign = broadcasts.update(campaign.id, {"schedule_at": None, **ours(body)})
    added = [contact_id for contact_id in wanted if contact_id not in present]
    if added:
        broadcasts.locked(campaign.id)
        add_recipients(db.session, campaign, added, {}, WorkspaceSettings.get().default_country)
        db.session.commit()
    if body.get("status") == "QUEUED":
        services.launch(campaign)
        db.session.commit()
    return broadcast(campaign)


@api.route("DELETE", "/broadcast/<id>/", scope="broadcasts:send", responses={204: None}, errors=(409,),
           summary="Delete a draft or scheduled broadcast (one that started: 409, cancel it)")
def delete_broadcast(body: dict, id: str):  # noqa: A002
    services.delete(_campaign(id))
    db.session.commit()
    return None, 204


def _message_rows():
    return (select(Recipient, Campaign.public_id, Contact.public_id)
            .join(Campaign, Campaign.id == Recipient.campaign_id)
            .outerjoin(Contact, Contact.id == Recipient.contact_id))


@api.route("GET", "/broadcast/messages/", scope="broadcasts:read", responses={200: "MessagePage"}, errors=(400,),
           query={**PAGING, "broadcast": {"type": "string", "format": "uuid"},
                  "status": {"enum": MESSAGE_STATUS}},
           summary="List individual message deliveries: every broadcast's, or one's (`broadcast`)")
def list_messages(body: dict):
    query = _message_rows()
    if request.args.get("broadcast"):
        query = query.where(Recipient.campaign_id == _campaign(request.args["broadcast"]).id)
    status = request.args.get("status", "").strip()
    if status:
        if status not in MESSAGE_STATUS:
            raise Refusal(400, f"status: one of {', '.join(MESSAGE_STATUS)}, not {status!r}.", {"field": "status"})
        query = query.where(Recipient.status == status.lower())
    return _page(query.order_by(Recipient.id), message)


@api.route("GET", "/broadcast/messages/<id>/", scope="broadcasts:read", responses={200: "Message"},
           summary="Get message delivery details")
def get_message(body: dict, id: str):  # noqa: A002
    found = db.session.execute(_message_rows().where(Recipient.id == int(id))).first() \
        if id.isascii() and id.isdigit() and len(id) < 19 else None
    if found is None:
        raise Refusal(404, "No BroadcastMessage matches the given query.")
    return message(*found)


def tracked_link(link_id: int, broadcast_id, variable: str, url: str, clicks: int, clickers: int) -> dict:
    return {"id": link_id, "broadcast": str(broadcast_id) if broadcast_id else None, "variable": variable,
            "url": url or None, "tracking_url": f"{public_url()}/r/{{code}}/", "clicks": int(clicks),
            "unique_clicks": int(clickers)}


@api.route("GET", "/broadcast/url-tracking/", scope="broadcasts:read", responses={200: "TrackedLinkPage"},
           errors=(400, 404), query={**PAGING, "broadcast": _UUID},
           summary="URL click tracking: each tracked link of the broadcasts, with its clicks")
def url_tracking(body: dict):
    """Newest links first; `?broadcast=<uuid>` keeps one broadcast's (webapp/tracking/clicks.py counts them)."""
    query = links_clicked(Campaign.public_id).outerjoin(Campaign, Campaign.id == TrackedLink.campaign_id)
    if broadcast_id := request.args.get("broadcast", "").strip():
        query = query.where(TrackedLink.campaign_id == _campaign(broadcast_id).id)
    return _page(query.order_by(TrackedLink.id.desc()), tracked_link)

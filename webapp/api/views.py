"""The JSON API under /api/v1: lists, broadcasts, their recipients' log, the dashboard, senders and templates
(contacts and tags, segments, and the Inbox have modules of their own: contacts.py, segments.py, conversations.py).

Each view reads the parsed request, calls a service and shapes the answer; webapp/api/routing.py does
the key, scope, rate, idempotency and validation for all of them alike. Importing this module brings
every route of the API blueprint (webapp/api/blueprint.py) with it, the readable reference page too.
"""
from __future__ import annotations

from flask import current_app, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from webapp.api import broadcasts, lists, payloads
from webapp.api import contacts as contacts_api  # noqa: F401 - contacts and tags
from webapp.api import conversations  # noqa: F401 - the Inbox's endpoints
from webapp.api import segments as segments_api  # noqa: F401 - segments and their counts
from webapp.api import reference  # noqa: F401 - the readable reference page, for staff
from webapp.api import reports  # noqa: F401 - the Reports page's figures
from webapp.api.blueprint import api, bp
from webapp.api.broadcasts import when
from webapp.api.errors import ApiError
from webapp.api.routing import Call
from webapp.api.schemas import ID
from webapp.campaigns import services
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import RECIPIENT_STATES, Recipient
from webapp.contacts import services as contacts
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import iso
from webapp.tracking.clicks import link_figures
from webapp.tracking.log import LogFilters, log_page
from webapp.url_numbers import LARGEST, LARGEST_ID, LAST_PAGE
from webapp.workspace.models import WorkspaceSettings

PAGE = {"type": "integer", "minimum": 1, "maximum": LAST_PAGE, "default": 1}


def per_page(default: int, most: int) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": most, "default": default}


RANGE = {"from": {"type": "string", "description": "Created at or after (ISO 8601 date or date-time, UTC)."},
         "to": {"type": "string", "description": "Created before (ISO 8601 date or date-time, UTC)."}}


def _country() -> str:
    return WorkspaceSettings.get().default_country


def _range(query: dict) -> tuple:
    return tuple(when(query[name] if "T" in query[name] else query[name] + "T00:00:00+00:00", name)
                 if name in query else None for name in ("from", "to"))


# --- Lists ---------------------------------------------------------------------------------------

def _written(contact_list, written: lists.Written) -> dict:
    members, opted_out = contacts.list_counts(db.session, contact_list.id)
    return {"data": {"id": contact_list.id, "uuid": str(contact_list.public_id), "name": contact_list.name, "recipient_count": members,
                     "opted_out_count": opted_out, "created_at": iso(contact_list.created_at),
                     "added": written.added, "removed": written.removed, "duplicates": written.duplicates,
                     "errors": written.errors}}


@api.route("GET", "/lists", tag="Lists", scope="lists:read", response="ListPage",
           summary="Lists, with their member counts and creation times",
           query={"page": PAGE, "per_page": per_page(50, 200)})
def list_lists(call: Call):
    """Every list, by name, a page at a time."""
    found = contacts.list_summaries(db.session)
    size, number = call.query["per_page"], call.query["page"]
    rows = found[(number - 1) * size: number * size]
    return {"data": [payloads.list_summary(s) for s in rows],
            "meta": {"page": number, "per_page": size, "total": len(found), "pages": -(-len(found) // size)}}


@api.route("POST", "/lists", tag="Lists", scope="lists:write", ok=201, response="ListWrittenOne",
           body="ListCreate", items="recipients", errors=(409, 422), summary="Create a list with its numbers")
def create_list(call: Call):
    """Each number is normalised to E.164; an invalid one is reported with its index and reason, the rest
    are added. A list name is unique, whatever its case (409)."""
    contact_list = contacts.create_list(db.session, call.body["name"])
    written = lists.add_numbers(db.session, contact_list, call.body.get("recipients", []), call.item_errors,
                                _country())
    db.session.commit()
    return _written(contact_list, written), 201


@api.route("GET", "/lists/<id:list_id>", tag="Lists", scope="lists:read", response="ListOne", errors=(404,),
           summary="A list with a page of its members", query={"page": PAGE, "q": {"type": "string"}})
def get_list(call: Call, list_id: int):
    """Members in the order they joined, 50 a page; `q` finds a name or part of a number."""
    contact_list = lists.get(list_id)
    members, opted_out = contacts.list_counts(db.session, list_id)
    found = contacts.members_page(db.session, list_id, call.query.get("q", ""), call.query["page"])
    return {"data": {"id": contact_list.id, "uuid": str(contact_list.public_id), "name": contact_list.name, "recipient_count": members,
                     "opted_out_count": opted_out, "created_at": iso(contact_list.created_at),
                     "recipients": [payloads.member(c) for c in found.items]},
            "meta": payloads.page_meta(found)}


@api.route("PATCH", "/lists/<id:list_id>", tag="Lists", scope="lists:write", response="ListWrittenOne",
           body="ListUpdate", items="recipients", errors=(404, 409, 422), summary="Rename a list or replace its numbers")
def update_list(call: Call, list_id: int):
    """`recipients`, when given, becomes the whole membership: numbers not in it leave the list (the contacts
    stay). Invalid numbers are reported by index."""
    contact_list = lists.get(list_id)
    if "name" in call.body:
        contacts.rename_list(db.session, contact_list, call.body["name"])
    written = lists.Written()
    if "recipients" in call.body:
        written = lists.replace_numbers(db.session, contact_list, call.body["recipients"], call.item_errors,
                                        _country())
    db.session.commit()
    return _written(contact_list, written)


@api.route("DELETE", "/lists/<id:list_id>", tag="Lists", scope="lists:write", response="Deleted", errors=(404,),
           summary="Delete a list")
def delete_list(call: Call, list_id: int):
    """The contacts stay, and broadcasts already launched keep their recipients."""
    contacts.delete_list(db.session, lists.get(list_id))
    db.session.commit()
    return {"data": {"id": list_id, "deleted": True}}


@api.route("POST", "/lists/<id:list_id>/recipients", tag="Lists", scope="lists:write", response="ListWrittenOne",
           body="ListRecipientsAdd", items="recipients", errors=(404,), summary="Add numbers to a list")
def add_list_recipients(call: Call, list_id: int):
    """Up to 1,000 numbers a request; numbers already in the list count as duplicates."""
    contact_list = lists.get(list_id)
    written = lists.add_numbers(db.session, contact_list, call.body["recipients"], call.item_errors, _country())
    db.session.commit()
    return _written(contact_list, written)


@api.route("DELETE", "/lists/<id:list_id>/recipients/<phone>", tag="Lists", scope="lists:write",
           response="ListWrittenOne", errors=(404,), summary="Take one number out of a list")
def remove_list_recipient(call: Call, list_id: int, phone: str):
    """The number in any written form; the contact itself stays."""
    contact_list = lists.get(list_id)
    try:
        e164 = normalise(phone, _country()).e164
    except InvalidPhone as error:
        raise ApiError("not_found", f"{phone} is not in the list: {error.reason}.") from None
    from webapp.contacts.models import Contact

    contact_id = db.session.scalar(select(Contact.id).where(Contact.phone == e164))
    if contact_id is None or not contacts.remove_member(db.session, list_id, contact_id):
        raise ApiError("not_found", f"{e164} is not in the list {contact_list.name}.")
    db.session.commit()
    return _written(contact_list, lists.Written(removed=1))


@api.route("POST", "/lists/<id:list_id>/send", tag="Lists", scope="broadcasts:send", ok=202,
           response="BroadcastAccepted", also_ok={201: "BroadcastAccepted"}, body="ListSend", errors=(404, 409, 422),
           summary="Send a template to a list in one call")
def send_to_list(call: Call, list_id: int):
    """Creates a broadcast to the list and launches it (202), or schedules it with `schedule_at` (201)."""
    lists.get(list_id)
    return _create({**call.body, "list_ids": [list_id], "send": "schedule_at" not in call.body}, {})


# --- Broadcasts ------------------------------------------------------------------------------------

def _create(body: dict, item_errors: dict):
    created = broadcasts.create(body, item_errors, _country())
    return payloads.accepted(created.campaign, created.taken), 202 if body.get("send") else 201


@api.route("GET", "/broadcasts", tag="Broadcasts", scope="broadcasts:read", response="BroadcastPage",
           summary="Broadcasts, newest first, with their counts",
           query={"page": PAGE, "per_page": per_page(25, 100),
                  "status": {"type": "string", "description": "One or more states, comma-separated (draft,sending), "
                                                              "or the page's words (ongoing, completed)."},
                  "q": {"type": "string", "description": "Part of the name."},
                  "sender_id": {"type": "integer", "description": "Only those sent from this number."}, **RANGE})
def list_broadcasts(call: Call):
    """Filter by status, creation time range (`from` inclusive, `to` exclusive), name and sender."""
    since, until = _range(call.query)
    query = broadcasts.filtered(call.query.get("status", ""), since, until, call.query.get("q", ""),
                                call.query.get("sender_id"))
    found = broadcasts.page(query, call.query["page"], call.query["per_page"])
    return {"data": [payloads.broadcast(c) for c in found.items], "meta": payloads.page_meta(found)}


@api.route("POST", "/broadcasts", tag="Broadcasts", scope="broadcasts:send", ok=201, response="BroadcastAccepted",
           also_ok={202: "BroadcastAccepted"}, body="BroadcastCreate", items="recipients", errors=(409, 422),
           summary="Create a broadcast: a draft (201), or launched at once with send: true (202)")
def create_broadcast(call: Call):
    """The audience is `list_ids`, a `segment_id` (its contacts when the broadcast launches), or a `retarget` of
    an earlier broadcast by engagement — one of them — and/or inline `recipients`: phone numbers or contact ids
    (up to 1,000; add more with POST /broadcasts/{id}/recipients; an unknown number or id is an error for its
    index). Values come from `template_parameters` (everyone's, or each recipient's own) or a `variables` mapping
    for contacts. `accepted`/`rejected` count inline recipients stored now plus the audience as forecast."""
    return _create(call.body, call.item_errors)


@api.route("GET", "/broadcasts/<id:broadcast_id>", tag="Broadcasts", scope="broadcasts:read",
           response="BroadcastOne", errors=(404,), summary="A broadcast's status, counts, rates and times")
def get_broadcast(call: Call, broadcast_id: int):
    """Poll it while it sends: `completed_at` is set when it has finished."""
    return {"data": payloads.broadcast(broadcasts.get(broadcast_id))}


@api.route("PATCH", "/broadcasts/<id:broadcast_id>", tag="Broadcasts", scope="broadcasts:send",
           response="BroadcastOne", body="BroadcastUpdate", errors=(404, 409, 422),
           summary="Change a draft or scheduled broadcast")
def update_broadcast(call: Call, broadcast_id: int):
    """Only what is given changes. `schedule_at` schedules it, or null makes it a draft again. The template
    cannot change once recipients were added with their own values (409)."""
    campaign = broadcasts.update(broadcast_id, call.body)
    return {"data": payloads.broadcast(campaign)}


@api.route("DELETE", "/broadcasts/<id:broadcast_id>", tag="Broadcasts", scope="broadcasts:send",
           response="Deleted", errors=(404, 409), summary="Delete a draft or scheduled broadcast")
def delete_broadcast(call: Call, broadcast_id: int):
    """A broadcast that has started cannot be deleted (409): cancel it instead."""
    services.delete(broadcasts.get(broadcast_id))
    db.session.commit()
    return {"data": {"id": broadcast_id, "deleted": True}}


@api.route("POST", "/broadcasts/<id:broadcast_id>/recipients", tag="Broadcasts", scope="broadcasts:send",
           response="RecipientsAdded", body="RecipientsAdd", items="recipients", errors=(404, 409),
           summary="Add up to 1,000 recipients to a draft")
def add_broadcast_recipients(call: Call, broadcast_id: int):
    """A phone number, a contact's id, or an object with `phone_number` or `contact_id` and its own
    `template_parameters` (checked against the template now); else the broadcast's values. A number already in
    the broadcast is a duplicate; an opted-out contact is stored as skipped and
    never sent; anything else wrong is an error with the recipient's index and reason."""
    found = broadcasts.add_to_draft(broadcast_id, call.body["recipients"], call.item_errors, _country())
    db.session.commit()
    return {"data": payloads.report(found, counts(db.session, broadcast_id)["total"])}


@api.route("POST", "/broadcasts/<id:broadcast_id>/send", tag="Broadcasts", scope="broadcasts:send", ok=202,
           response="BroadcastAccepted", errors=(404, 409, 422), summary="Send a draft or scheduled broadcast now")
def send_broadcast(call: Call, broadcast_id: int):
    """Answers 202 at once: the recipients of its lists are written and sending starts in the background."""
    campaign = broadcasts.get(broadcast_id)
    taken = broadcasts.acceptance(campaign)
    services.launch(campaign)
    db.session.commit()
    return payloads.accepted(campaign, taken), 202


def _control(broadcast_id: int, action):
    campaign = broadcasts.get(broadcast_id)
    action(campaign)
    db.session.commit()
    db.session.refresh(campaign)
    return {"data": payloads.broadcast(campaign)}


@api.route("POST", "/broadcasts/<id:broadcast_id>/pause", tag="Broadcasts", scope="broadcasts:send",
           response="BroadcastOne", errors=(404, 409), summary="Pause a sending broadcast")
def pause_broadcast(call: Call, broadcast_id: int):
    """No new message starts until it is resumed."""
    return _control(broadcast_id, services.pause)


@api.route("POST", "/broadcasts/<id:broadcast_id>/resume", tag="Broadcasts", scope="broadcasts:send",
           response="BroadcastOne", errors=(404, 409), summary="Resume a paused broadcast")
def resume_broadcast(call: Call, broadcast_id: int):
    """Sending goes on where it stopped."""
    return _control(broadcast_id, services.resume)


@api.route("POST", "/broadcasts/<id:broadcast_id>/cancel", tag="Broadcasts", scope="broadcasts:send",
           response="BroadcastOne", errors=(404, 409), summary="Cancel a broadcast for good")
def cancel_broadcast(call: Call, broadcast_id: int):
    """Recipients not yet sent are cancelled; messages already sent keep being tracked."""
    return _control(broadcast_id, services.cancel)


@api.route("GET", "/broadcasts/<id:broadcast_id>/recipients", tag="Broadcasts", scope="broadcasts:read",
           response="RecipientLogPage", errors=(404,), summary="The per-recipient log",
           query={"status": {"type": "string", "enum": list(RECIPIENT_STATES)},
                  "error_code": {"type": "integer", "maximum": LARGEST_ID}, "replied": {"type": "string", "enum": ["yes", "no"]},
                  "clicked": {"type": "string", "enum": ["yes", "no"]},
                  "q": {"type": "string", "description": "Part of a number or a name."},
                  "after": {"type": "integer", "minimum": 0, "maximum": LARGEST,
                            "description": "The `next_after` of the page before."},
                  "per_page": per_page(100, 1000)})
def broadcast_recipients(call: Call, broadcast_id: int):
    """In send order, a page at a time: follow `meta.next_after` until it is null."""
    broadcasts.get(broadcast_id)
    query = call.query
    filters = LogFilters(status=query.get("status", ""), error=query.get("error_code"),
                         replied=query.get("replied", ""), clicked=query.get("clicked", ""),
                         q=query.get("q", "").strip()[:100])
    found = log_page(db.session, broadcast_id, filters, after=query.get("after"), size=query["per_page"])
    return {"data": [payloads.log_row(row) for row in found.rows],
            "meta": {"per_page": query["per_page"], "next_after": found.next_after}}


@api.route("GET", "/broadcasts/<id:broadcast_id>/clicks", tag="Broadcasts", scope="broadcasts:read",
           response="BroadcastClicksOne", errors=(404,), summary="Clicks on the broadcast's tracked links",
           query={"after": {"type": "integer", "minimum": 0, "maximum": LARGEST,
                            "description": "The `next_after` of the page before."},
                  "per_page": per_page(100, 1000)})
def broadcast_clicks(call: Call, broadcast_id: int):
    """Each tracked link with its clicks and the recipients who opened it, and those recipients a page at a time
    (follow `meta.next_after`). Link previews (WhatsApp's, other apps') are not clicks."""
    broadcasts.get(broadcast_id)
    found = log_page(db.session, broadcast_id, LogFilters(clicked="yes"), after=call.query.get("after"),
                     size=call.query["per_page"])
    totals = counts(db.session, broadcast_id)
    return {"data": payloads.clicks(broadcast_id, totals, link_figures(db.session, broadcast_id), found.rows),
            "meta": {"per_page": call.query["per_page"], "next_after": found.next_after}}


@api.route("GET", "/broadcasts/<id:broadcast_id>/recipients/<id(big=True):recipient_id>", tag="Broadcasts",
           scope="broadcasts:read", response="RecipientLogOne", errors=(404,), summary="One recipient of the log")
def broadcast_recipient(call: Call, broadcast_id: int, recipient_id: int):
    """One row of the log by its `id`, e.g. to follow a message a webhook of yours mentioned."""
    row = db.session.get(Recipient, recipient_id)
    if row is None or row.campaign_id != broadcast_id:
        raise ApiError("not_found", f"Broadcast {broadcast_id} has no recipient {recipient_id}.")
    return {"data": payloads.log_row(row)}


@api.route("GET", "/recipients", tag="Broadcasts", scope="broadcasts:read", response="NumberHistory",
           summary="What every broadcast sent one number",
           query={"phone_number": {"type": "string", "required": True, "description": "In any written form."},
                  "after": {"type": "integer", "minimum": 0, "maximum": LARGEST}, "per_page": per_page(100, 1000)})
def number_history(call: Call):
    """The number's recipient rows across all broadcasts, oldest first, each with its broadcast."""
    try:
        phone = normalise(call.query["phone_number"], _country()).e164
    except InvalidPhone as error:
        raise ApiError("invalid_request", f"phone_number: {error.reason}.",
                       [{"field": "phone_number", "message": error.reason}]) from None
    found = broadcasts.rows_of_number(phone, call.query.get("after"), call.query["per_page"])
    return {"data": [payloads.number_row(row, name) for row, name in found.rows],
            "meta": {"per_page": call.query["per_page"], "next_after": found.next_after}}


@api.route("GET", "/dashboard", tag="Broadcasts", scope="broadcasts:read", response="DashboardOne",
           query=RANGE, summary="Counts and rates across the broadcasts created in a time range")
def dashboard(call: Call):
    """Every broadcast created in [from, to) (all of them without a range): how many in each state, their
    recipients' counts summed, and delivery, read and response rates of the messages accepted."""
    since, until = _range(call.query)
    by_status, messages = broadcasts.totals(broadcasts.filtered("", since, until))
    return {"data": {"from": iso(since), "to": iso(until),
                     "broadcasts": {"total": sum(by_status.values()), "by_status": by_status},
                     "messages": messages, "rates": payloads.rates(messages)}}


@api.route("GET", "/senders", tag="Setup", scope="broadcasts:read", response="SenderList",
           summary="The sender numbers broadcasts can go from")
def list_senders(call: Call):
    """The first one is the default of a broadcast that names none."""
    return {"data": [payloads.sender(s) for s in db.session.scalars(select(Sender).order_by(Sender.id))]}


@api.route("GET", "/templates", tag="Setup", scope="broadcasts:read", response="TemplateList",
           query={"sender_id": ID, "status": {"type": "string"}},
           summary="Templates, with the parameters each one takes")
def list_templates(call: Call):
    """`parameters` is the order of a positional `template_parameters` array; their keys (or the variables'
    own names) are what a named object uses."""
    query = select(Template).order_by(Template.name, Template.language)
    if "sender_id" in call.query:
        query = query.where(Template.waba_id == broadcasts.sender_for(call.query["sender_id"]).waba_id)
    if "status" in call.query:
        query = query.where(Template.status == call.query["status"].upper())
    return {"data": [payloads.template(t) for t in db.session.scalars(query)]}


# --- The document, and anything else under /api/v1 ------------------------------------------------------

@api.route("GET", "/openapi.json", tag="Reference", scope=None, response="OpenApiDocument",
           summary="This document")
def openapi_document(call: Call):
    """The OpenAPI 3.1 description of this API; no key needed."""
    from webapp.api.openapi import document

    return document(api.operations)


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(anything: str):
    """A JSON 404 or 405 for any other path, rather than the web pages' HTML."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if endpoint != "api.unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound(f"There is no {request.path}; the reference is at {url_for('api.openapi_document')}.")


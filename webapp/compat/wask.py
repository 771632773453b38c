"""wask's broadcast lists under /compat/wask (seed 000): `/sessions/{id}/broadcasts…` with `X-API-Key`.

A wask broadcast list is one of our contact lists (its id `broadcast_<the list's UUID, hex>`); `recipients` are
numbers as digit strings with their country code. The session in the path is wask's WhatsApp session: here the
key names the workspace, so any session id reaches its lists. `…/send` is a free-form message (text, or an image,
video or document by URL with a caption) sent through the Inbox's list send (webapp/inbox/list_messages.py): only
members inside their 24-hour window get it, the others come back `failed` with that reason. For lists of up to
WAIT_LIMIT members the answer waits for the sends (up to COMPAT_WASK_WAIT_SECONDS) and carries `results`; larger
lists, or sends still going when the wait ends, answer 202 with `statusUrl`, whose GET answers the same results.
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import select

from webapp.api import lists
from webapp.compat.common import CompatApi, Refusal, by_public_id
from webapp.contacts import services as contacts
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.extensions import db
from webapp.inbox import list_messages
from webapp.inbox.models import Answer
from webapp.queues import redis_client
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

PREFIX = "broadcast_"
WAIT_LIMIT = 100  # members a send waits for (wask's advice: keep lists under 100)
KEPT_SECONDS = 24 * 3600  # a send's results stay readable at its statusUrl this long
KINDS = ("text", "image", "video", "document")
SENT = ("accepted", "sent", "delivered", "read")  # an answer Meta took: wask's "sent"

STRING = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
DIGITS = {"type": "string", "pattern": r"^\+?[0-9]{6,15}$", "description": "Country code and number, digits only"}
WHEN = {"type": "string", "description": "UTC with milliseconds, e.g. 2026-01-28T10:00:00.000Z"}


def _obj(properties: dict, required: tuple[str, ...] | None = None) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": list(properties if required is None else required)}


def _ok(**properties) -> dict:
    return _obj({"success": {"const": True}, **properties})


RESULT = _obj({"to": STRING, "status": {"type": "string", "enum": ["sent", "failed", "pending"]},
               "messageId": {"type": ["string", "null"]}, "error": STRING}, required=("to", "status", "messageId"))
SCHEMAS = {
    "Error": _obj({"success": {"const": False}, "error": STRING}),
    "ListCreate": _obj({"name": {"type": "string", "minLength": 1}, "recipients": {"type": "array", "items": DIGITS,
                                                                                   "maxItems": 1000}}),
    "ListUpdate": {**_obj({"name": {"type": "string", "minLength": 1},
                           "recipients": {"type": "array", "items": DIGITS, "maxItems": 1000}}, required=()),
                   "minProperties": 1},
    "ListSummary": _ok(broadcast=_obj({"id": STRING, "name": STRING, "recipientCount": COUNT})),
    "ListIndex": _ok(broadcasts={"type": "array", "items": _obj({"id": STRING, "name": STRING,
                                                                 "recipientCount": COUNT, "createdAt": WHEN})}),
    "ListDetail": _ok(broadcast=_obj({"id": STRING, "name": STRING, "recipients": {"type": "array", "items": STRING},
                                      "createdAt": WHEN})),
    "Deleted": _ok(),
    "Send": {**_obj({"text": STRING, "type": {"type": "string", "enum": list(KINDS)},
                     "media": {"type": "string", "description": "An https URL (image, video, document)"},
                     "caption": STRING}, required=()), "minProperties": 1},
    "SendResults": _ok(broadcast=_obj({"id": STRING, "totalRecipients": COUNT, "sent": COUNT, "failed": COUNT}),
                       results={"type": "array", "items": RESULT}),
    "SendAccepted": _ok(broadcast=_obj({"id": STRING, "totalRecipients": COUNT, "queued": COUNT, "failed": COUNT}),
                        statusUrl=STRING),
    "SendStatus": _ok(completed={"type": "boolean"},
                      broadcast=_obj({"id": STRING, "totalRecipients": COUNT, "sent": COUNT, "failed": COUNT,
                                      "pending": COUNT}),
                      results={"type": "array", "items": RESULT}),
}

api = CompatApi("wask", "wask broadcast lists", key_header="X-API-Key", schemas=SCHEMAS,
                error=lambda status, message, details: {"success": False, "error": message},
                description="wask's broadcast lists: lists of numbers, and a free-form message sent to a list. The "
                            "session id in each path is accepted as given: the key chooses the workspace.")

LISTS = "/sessions/<session>/broadcasts"
ONE = f"{LISTS}/<broadcast_id>"


# --- Lists ---------------------------------------------------------------------------------------

def _id(contact_list: ContactList) -> str:
    return PREFIX + contact_list.public_id.hex


def _list(broadcast_id: str) -> ContactList:
    return by_public_id(ContactList, broadcast_id.removeprefix(PREFIX),
                        f"There is no broadcast list {broadcast_id}.")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _members(contact_list: ContactList) -> int:
    return contacts.list_counts(db.session, contact_list.id)[0]


def _write_numbers(contact_list: ContactList, numbers: list[str], replace: bool) -> None:
    """Make the list's numbers these (wask's digit strings, with their country code), or refuse them all."""
    given = ["+" + number.lstrip("+") for number in numbers]
    write = lists.replace_numbers if replace else lists.add_numbers
    written = write(db.session, contact_list, given, {}, WorkspaceSettings.get().default_country)
    if written.errors:  # nothing is kept: the handler rolls the request back
        raise Refusal(400, "Some recipients are not valid phone numbers: " + "; ".join(
            f"{numbers[e['index']]} ({e['reason'].rstrip('.')})" for e in written.errors[:10]) + ".")


@api.route("POST", LISTS, scope="lists:write", body="ListCreate", responses={200: "ListSummary"}, errors=(409,),
           summary="Create a broadcast list with its recipients")
def create_list(body: dict, session: str):
    contact_list = contacts.create_list(db.session, body["name"])
    _write_numbers(contact_list, body["recipients"], replace=False)
    db.session.commit()
    return {"success": True, "broadcast": {"id": _id(contact_list), "name": contact_list.name,
                                           "recipientCount": _members(contact_list)}}


@api.route("GET", LISTS, scope="lists:read", responses={200: "ListIndex"}, summary="All broadcast lists")
def all_lists(body: dict, session: str):
    return {"success": True, "broadcasts": [
        {"id": PREFIX + summary.public_id.hex, "name": summary.name, "recipientCount": summary.members,
         "createdAt": _when(summary.created_at)} for summary in contacts.list_summaries(db.session)]}


@api.route("GET", ONE, scope="lists:read", responses={200: "ListDetail"}, summary="A broadcast list's recipients")
def one_list(body: dict, session: str, broadcast_id: str):
    contact_list = _list(broadcast_id)
    phones = db.session.scalars(select(Contact.phone).join(ListMember, ListMember.contact_id == Contact.id)
                                .where(ListMember.list_id == contact_list.id).order_by(ListMember.contact_id))
    return {"success": True, "broadcast": {"id": _id(contact_list), "name": contact_list.name,
                                           "recipients": [phone.lstrip("+") for phone in phones],
                                           "createdAt": _when(contact_list.created_at)}}


@api.route("PUT", ONE, scope="lists:write", body="ListUpdate", responses={200: "ListSummary"}, errors=(409,),
           summary="Rename a broadcast list, or replace its recipients")
def update_list(body: dict, session: str, broadcast_id: str):
    contact_list = _list(broadcast_id)
    if "name" in body:
        contacts.rename_list(db.session, contact_list, body["name"])
    if "recipients" in body:
        _write_numbers(contact_list, body["recipients"], replace=True)
    db.session.commit()
    return {"success": True, "broadcast": {"id": _id(contact_list), "name": contact_list.name,
                                           "recipientCount": _members(contact_list)}}


@api.route("DELETE", ONE, scope="lists:write", responses={200: "Deleted"}, summary="Delete a broadcast list")
def delete_list(body: dict, session: str, broadcast_id: str):
    contacts.delete_list(db.session, _list(broadcast_id))
    db.session.commit()
    return {"success": True}


# --- Sending -------------------------------------------------------------------------------------

def _message(body: dict) -> list_messages.ListMessage:
    kind = body.get("type") or ("text" if "media" not in body else "")
    if kind not in KINDS:
        raise Refusal(400, "Say the message's `type` (image, video or document) with `media`.")
    if kind == "text":
        if not body.get("text"):
            raise Refusal(400, "Give the message's `text`.")
        return list_messages.ListMessage("text", body["text"])
    if not body.get("media"):
        raise Refusal(400, f"An {kind} message needs `media`, the https URL of the file.")
    if not body["media"].startswith("https://"):  # wask's media is a link; ours may also be a Meta media id
        raise Refusal(422, "`media` must be an https:// URL Meta can fetch.")
    return list_messages.ListMessage(kind, body.get("caption") or body.get("text") or "", media_ref=body["media"])


def _results(outcomes: list[dict]) -> list[dict]:
    """Each recipient's result now: its answer's status and WhatsApp message id, or why it was not sent."""
    ids = [o["answer"] for o in outcomes if o["answer"]]
    answers = {row.id: row for row in db.session.execute(
        select(Answer.id, Answer.status, Answer.wamid, Answer.error_title).where(Answer.id.in_(ids)))} if ids else {}
    found = []
    for outcome in outcomes:
        row = answers.get(outcome["answer"])
        if row is None:
            found.append({"to": outcome["to"], "status": "failed", "messageId": None,
                          "error": outcome["reason"] or "the message is gone"})
        elif row.status == "failed":
            found.append({"to": outcome["to"], "status": "failed", "messageId": row.wamid,
                          "error": row.error_title or "failed"})
        else:
            found.append({"to": outcome["to"], "status": "sent" if row.status in SENT else "pending",
                          "messageId": row.wamid})
    return found


def _tally(broadcast_id: str, results: list[dict]) -> dict:
    counted = {status: sum(1 for r in results if r["status"] == status) for status in ("sent", "failed", "pending")}
    return {"id": broadcast_id, "totalRecipients": len(results), **counted}


def _key(token: str) -> str:
    return f"compat:wask:send:{token}"


@api.route("POST", f"{ONE}/send", scope="inbox:send", body="Send",
           responses={200: "SendResults", 202: "SendAccepted"}, errors=(422,),
           summary="Send a free-form message to the list's recipients inside their 24-hour window")
def send(body: dict, session: str, broadcast_id: str):
    contact_list = _list(broadcast_id)
    sent = list_messages.send_to_list(db.session, contact_list.id, _message(body), None, utcnow())
    db.session.commit()
    outcomes = [{"to": o.phone.lstrip("+"), "answer": o.message_id, "reason": o.skipped} for o in sent]
    token = secrets.token_urlsafe(12)
    redis_client().set(_key(token), json.dumps({"list": broadcast_id, "outcomes": outcomes}), ex=KEPT_SECONDS)
    if len(outcomes) <= WAIT_LIMIT:
        deadline = time.monotonic() + current_app.config.get("COMPAT_WASK_WAIT_SECONDS", 30)
        while True:
            db.session.rollback()  # a fresh snapshot: the workers' writes since
            results = _results(outcomes)
            if not any(r["status"] == "pending" for r in results):
                tally = _tally(_id(contact_list), results)
                del tally["pending"]
                return {"success": True, "broadcast": tally, "results": results}
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
    queued = sum(1 for o in outcomes if o["answer"])
    return {"success": True, "broadcast": {"id": _id(contact_list), "totalRecipients": len(outcomes),
                                           "queued": queued, "failed": len(outcomes) - queued},
            "statusUrl": url_for(f"{api.bp.name}.send_status", session=session, broadcast_id=broadcast_id,
                                 token=token, _external=True)}, 202


@api.route("GET", f"{ONE}/sends/<token>", scope="inbox:read", responses={200: "SendStatus"},
           summary="The results of a send that answered 202, until each recipient's message was sent or failed")
def send_status(body: dict, session: str, broadcast_id: str, token: str):
    kept = redis_client().get(_key(token))
    record = json.loads(kept) if kept else None
    if record is None or record["list"] != broadcast_id:
        raise Refusal(404, "There is no such send (results are kept for 24 hours).")
    results = _results(record["outcomes"])
    tally = _tally(broadcast_id, results)
    return {"success": True, "completed": tally["pending"] == 0, "broadcast": tally, "results": results}


"""The Inbox as the API speaks of it: conversations, a conversation's messages, a message to one contact, and a
free-form message to a list's members inside their 24-hour window. Thin: the inbox's services decide and send
(webapp/inbox/), their refusals come back in the API's error shape (errors.py maps InboxError's codes)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from webapp.api import broadcasts, lists, payloads
from webapp.api.blueprint import api
from webapp.api.contacts import find as find_contact
from webapp.api.errors import ApiError
from webapp.api.parameters import ParameterError, as_variables
from webapp.api.routing import Call
from webapp.extensions import db
from webapp.inbox import answers, conversations, list_messages, timeline
from webapp.inbox.conversations import SHOWS
from webapp.inbox.models import Conversation
from webapp.timestamps import utcnow
from webapp.url_numbers import LARGEST_ID

PER_PAGE = {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}


@api.route("GET", "/conversations", tag="Inbox", scope="inbox:read", response="ConversationPage",
           summary="Conversations, newest first",
           query={"filter": {"type": "string", "enum": [s for s in SHOWS if s != "mine"], "default": "open",
                             "description": "open (default: all but done), unread, needs_answer, done or all."},
                  "assigned_to": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID,
                                  "description": "Only those assigned to this staff member (a user id)."},
                  "campaign_id": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID,
                                  "description": "Only those whose customer last answered this broadcast."},
                  "q": {"type": "string", "maxLength": 100, "description": "Part of a name, or 3+ digits of a "
                                                                           "number."},
                  "before": {"type": "string", "maxLength": 64, "description": "The `next_before` of the page "
                                                                               "before."},
                  "per_page": PER_PAGE})
def list_conversations(call: Call):
    """One per contact, with unread counts and the 24-hour window; follow `meta.next_before` until it is null."""
    query = call.query
    page = conversations.conversation_page(db.session, None, show=query["filter"],
                                           campaign_id=query.get("campaign_id"),
                                           search=query.get("q", ""), before=query.get("before"),
                                           size=query["per_page"], assigned_to=query.get("assigned_to"))
    now = utcnow()
    return {"data": [payloads.conversation(listed, now) for listed in page.conversations],
            "meta": {"per_page": query["per_page"], "next_before": page.older_than}}


@api.route("GET", "/conversations/<contact>/messages", tag="Inbox", scope="inbox:read", response="MessagePage",
           errors=(404,), summary="A conversation's messages, in time order",
           query={"before": {"type": "string", "maxLength": 64,
                             "description": "The `next_before` of the page before (opaque)."},
                  "per_page": PER_PAGE})
def conversation_messages(call: Call, contact: str):
    """`contact` is a contact's id, or its phone number starting with `+` (E.164; `%2B` in a URL). The newest page
    first, oldest first within it: the broadcasts' messages as the customer read them, the customer's, and answers
    with their status; follow `meta.next_before` for older ones."""
    found = find_contact(contact)
    conversation = db.session.scalar(select(Conversation).where(Conversation.contact_id == found.id)) \
        or Conversation(contact=found)  # never wrote, never answered: the broadcasts' messages only
    before = call.query.get("before")
    if before is not None and timeline.Cursor.read(before) is None:
        raise ApiError("invalid_request", "before is not a `meta.next_before` this API handed out.",
                       [{"field": "before", "message": "not a cursor of this list"}])
    shown = timeline.timeline(db.session, conversation, before, call.query["per_page"])
    return {"data": [payloads.message(item) for item in shown.items],
            "meta": {"per_page": call.query["per_page"], "next_before": shown.older_than}}


@api.route("POST", "/messages", tag="Inbox", scope="inbox:send", ok=202, response="MessageOne", body="MessageSend",
           errors=(404, 409, 422), summary="Send a message to one contact")
def send_message(call: Call):
    """Text, an image, video, audio or document (`media_id` from Meta's media upload, or an https `link`), only
    inside the contact's 24-hour window (else `outside_window`); or an approved template, with
    `template_parameters` as a broadcast's, at any time but never to an opted-out contact (`opted_out`). Answers
    202 at once: the message is sent through the number's rate limiter, and its status follows in GET
    /conversations/{contact}/messages."""
    body = call.body
    contact = find_contact(body["to"])
    now = utcnow()
    conversation = conversations.of_contact(db.session, contact.id, now)
    kind = body["type"]
    if kind == "text":
        answer = answers.answer_text(db.session, conversation, body.get("text", ""), None, now)
    elif kind == "template":
        answer = _template(conversation, body, now)
    else:
        answer = answers.answer_media_ref(db.session, conversation, kind, _media_ref(body), body.get("text", ""),
                                          body.get("filename", ""), None, now)
    db.session.commit()
    return {"data": payloads.answer(answer)}, 202


def _media_ref(body: dict) -> str:
    if ("media_id" in body) == ("link" in body):
        raise ApiError("bad_media", "Give the media as `media_id` or `link` (one of them).", {"field": "media_id"})
    return body.get("media_id") or body["link"]


def _template(conversation: Conversation, body: dict, now: datetime):
    if "template_name" not in body:
        raise ApiError("invalid_request", "A template message needs `template_name`.",
                       [{"field": "template_name", "message": "required for type template"}])
    sender = answers.sender_of(db.session, conversation)
    if sender is None:
        raise ApiError("conflict", "No sender number is set up yet; an admin adds one in Settings.")
    template = broadcasts.template_for(sender, body["template_name"], body.get("language"))
    try:
        mapping, media = as_variables(template.components, template.parameter_format,
                                      body.get("template_parameters", {}))
    except ParameterError as error:
        raise ApiError("unprocessable", f"template_parameters: {error}.", {"field": "template_parameters"}) from None
    return answers.answer_template(db.session, conversation, template, mapping,
                                   body.get("header_url") or media.get("header_url", ""),
                                   body.get("button_payloads", {}), None, now)


@api.route("POST", "/lists/<id:list_id>/messages", tag="Lists", scope="inbox:send", ok=202,
           response="ListMessagesOne", body="ListMessageSend", errors=(404, 409, 422),
           summary="Send a free-form message to a list's members inside their 24-hour window")
def send_to_list_members(call: Call, list_id: int):
    """Text, or an image, video, audio or document by `media_id` or https `link`, to every member who wrote in the
    last 24 hours; the others are skipped with the reason "outside the 24-hour window — needs a template" (send
    them a template with POST /lists/{id}/send), opted-out members with theirs. Answers 202 with each member's
    result and message id; the messages go out through the number's rate limiter, their statuses follow in each
    conversation."""
    lists.get(list_id)
    body = call.body
    kind = body["type"]
    message = list_messages.ListMessage(kind, body.get("text", ""), media_name=body.get("filename", ""),
                                        media_ref="" if kind == "text" else _media_ref(body))
    outcomes = list_messages.send_to_list(db.session, list_id, message, None, utcnow())
    db.session.commit()
    queued = sum(1 for outcome in outcomes if outcome.message_id)
    return {"data": {"list_id": list_id, "queued": queued, "skipped": len(outcomes) - queued,
                     "results": [payloads.list_outcome(outcome) for outcome in outcomes]}}, 202

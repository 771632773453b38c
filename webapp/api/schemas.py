"""The JSON Schemas of every request and response: they validate what clients send and make the OpenAPI document.

One place, so the reference and the behaviour cannot drift; tests check every answer against them.
"""
from __future__ import annotations

from webapp.api.errors import CODES
from webapp.api.models import SCOPES
from webapp.campaigns.audience import OUTCOMES
from webapp.campaigns.models import CAMPAIGN_STATES
from webapp.campaigns.variables import SOURCES
from webapp.inbox.answers import MAX_TEXT, MEDIA_ANSWERS
from webapp.inbox.models import CONVERSATION_STATES
from webapp.timestamps import ISO_SCHEMA
from webapp.tracking.columns import API_COLUMNS
from webapp.url_numbers import LARGEST_ID

MAX_RECIPIENTS = 1000  # per request; more is 413

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": LARGEST_ID}  # a row the request names: a larger one cannot exist
COUNT = {"type": "integer", "minimum": 0}
WHEN = ISO_SCHEMA
PERCENT = {"type": ["number", "null"],
           "description": "Percent of the messages the Cloud API accepted; null before any was accepted"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: tuple[str, ...] | None = None, **extra) -> dict:
    """An object that allows only these properties; every one is required unless `required` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties if required is None else required), "additionalProperties": False, **extra}


def data(schema: dict, **more) -> dict:
    return obj({"data": schema, **more})


def page_of(item: str) -> dict:
    return data({"type": "array", "items": ref(item)}, meta=ref("PageMeta"))


UUID = {"type": "string", "format": "uuid", "description": "The stable public id (the compat APIs' ids)"}
PHONE_IN = {"type": "string", "minLength": 1, "maxLength": 64,
            "description": "A phone number in any written form; E.164 (+14155550123) is safest. Numbers "
                           "without a country code are read as the workspace's default country's."}
COUNTS = obj({name: COUNT for name in ("total", "pending", "sending", "queued", "accepted", "sent", "delivered",
                                       "read", "replied", "failed", "skipped", "cancelled", "unknown", "clicked")},
             description="Recipients by state: accepted, sent, delivered, read and replied count every row that "
                         "reached the stage; accepted is the Cloud API's answer to our request, sent and later "
                         "stages are Meta's statuses (a message Meta failed after accepting it is accepted and "
                         "failed, not sent); queued = pending + sending; clicked: recipients who opened one of "
                         "its tracked links.")

DAILY_FIGURES = {**{name: COUNT for name in ("sent", "delivered", "read", "replied", "clicked", "failed", "opted_out")},
                 "cost": {"type": "number", "minimum": 0}}
SENT_PERCENT = {"type": ["number", "null"], "description": "Percent of the messages sent; null when none was"}

LOG_ROW = {column.api: column.schema for column in API_COLUMNS}  # a recipient row: webapp/tracking/columns.py

SCHEMAS: dict[str, dict] = {
    # --- Conventions ---
    "Error": obj({"error": obj({
        "code": {"type": "string", "enum": sorted(CODES)},
        "message": {"type": "string", "description": "For people; may change. Branch on `code`."},
        "details": {"description": "What exactly was wrong: the fields, the reason, or null."},
    })}),
    "PageMeta": obj({"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
                     "total": COUNT, "pages": COUNT}),
    "CursorMeta": obj({"per_page": {"type": "integer", "minimum": 1},
                       "next_after": {"type": ["integer", "null"],
                                      "description": "Pass as `after` for the next page; null on the last page."}}),
    "RecipientError": obj({
        "index": {"type": "integer", "minimum": 0, "description": "Position in the request's `recipients`."},
        "recipient": {"description": "What was sent at that position."},
        "reason": STRING,
    }),
    # --- Lists ---
    "ListRecipientIn": {"oneOf": [PHONE_IN, obj({"phone_number": PHONE_IN, "name": {"type": "string",
                                                                                        "maxLength": 200}},
                                                required=("phone_number",))]},
    "ListCreate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                       "recipients": {"type": "array", "items": ref("ListRecipientIn"),
                                      "maxItems": MAX_RECIPIENTS}}, required=("name",)),
    "ListUpdate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                       "recipients": {"type": "array", "items": ref("ListRecipientIn"), "maxItems": MAX_RECIPIENTS,
                                      "description": "Replaces the members: numbers not given leave the list."}},
                      required=(), minProperties=1),
    "ListRecipientsAdd": obj({"recipients": {"type": "array", "items": ref("ListRecipientIn"), "minItems": 1,
                                             "maxItems": MAX_RECIPIENTS}}),
    "ListSend": obj({
        "name": {"type": "string", "maxLength": 200}, "sender_id": ID,
        "template_name": {"type": "string", "minLength": 1}, "language": STRING,
        "variables": ref("Variables"), "template_parameters": ref("TemplateParameters"),
        "button_payloads": ref("ButtonPayloads"),
        "header_url": STRING, "schedule_at": {"type": "string", "format": "date-time"},
    }, required=("template_name",)),
    "ListSummary": obj({"id": INTEGER, "uuid": UUID, "name": STRING, "recipient_count": COUNT, "opted_out_count": COUNT,
                        "created_at": WHEN}),
    "ListMember": obj({"phone_number": STRING, "name": STRING, "country": STRING, "opted_out": {"type": "boolean"},
                       "attributes": {"type": "object"}}),
    "ListDetail": obj({"id": INTEGER, "uuid": UUID, "name": STRING, "recipient_count": COUNT, "opted_out_count": COUNT,
                       "created_at": WHEN, "recipients": {"type": "array", "items": ref("ListMember")}}),
    "ListWritten": obj({"id": INTEGER, "uuid": UUID, "name": STRING, "recipient_count": COUNT, "opted_out_count": COUNT,
                        "created_at": WHEN, "added": COUNT, "removed": COUNT, "duplicates": COUNT,
                        "errors": {"type": "array", "items": ref("RecipientError")}}),
    # --- Broadcasts: what is sent ---
    "TemplateParameters": {
        "description": "The template's values: an array in the order of the template's `parameters` (see GET "
                       "/templates), or an object by variable name or slot key (`first_name`, `body:1`, `header`, "
                       "`button:0`). An object may also carry `header_url` and `header_filename`.",
        "oneOf": [{"type": "array", "items": {"type": ["string", "number"]}},
                  {"type": "object", "additionalProperties": {"type": ["string", "number"]}}]},
    "Variables": {
        "type": "object", "description": "Where each slot's value comes from, for list contacts: their first name "
                                         "(the first word of their name), full name, one of their attributes (CSV "
                                         "columns, whatever their case; one no contact has is refused), or a "
                                         "constant; with a fallback.",
        "propertyNames": {"pattern": "^(header|body:[A-Za-z0-9_]+|button:[0-9]+)$"},
        "additionalProperties": obj({"source": {"type": "string", "enum": list(SOURCES)},
                                     "value": STRING, "fallback": STRING}, required=("source",))},
    "ButtonPayloads": {
        "type": "object", "description": "What a tap on each quick-reply button sends back, by the button's index "
                                         "(0-9), the same for everyone (at most 256 characters). A button without "
                                         "one is sent with its text.",
        "propertyNames": {"pattern": "^[0-9]$"}, "additionalProperties": {"type": "string"}},
    "RecipientIn": {"oneOf": [PHONE_IN, {**ID, "description": "A contact's id (GET /contacts)."}, obj({
        "phone_number": PHONE_IN,
        "contact_id": {**ID, "description": "Instead of `phone_number`: a contact's id."},
        "name": {"type": "string", "maxLength": 200},
        "attributes": {"type": "object", "additionalProperties": {"type": ["string", "number", "null"]},
                       "description": "Values a `variables` mapping of source `attribute` can read."},
        "template_parameters": ref("TemplateParameters"),
        "header_url": {"type": "string", "description": "This recipient's header image, video or document."},
        "header_filename": STRING,
    }, required=())],
        "description": "A phone number, a contact's id, or an object with either and this recipient's own values."},
    "Retarget": obj({"broadcast_id": ID, "engagement": {"type": "string", "enum": sorted(OUTCOMES)}}),
    "SendingWindow": {**obj({"from": {"type": "string", "description": "HH:MM", "examples": ["09:00"]},
                             "to": {"type": "string", "description": "HH:MM; before `from`: spans midnight"}},
                            required=("from", "to")),
                      "description": "Send only between these hours of each recipient's own time (their contact's "
                                     "`timezone` attribute, else their number's zone); messages wait outside them. "
                                     "null: any hour."},
    "BroadcastCreate": obj({
        "name": {"type": "string", "maxLength": 200, "description": "Default: the template's name and the date."},
        "sender_id": {**ID, "description": "Default: the first sender number."},
        "template_name": {"type": "string", "minLength": 1},
        "language": {"type": "string", "description": "Default en_US (or the template's only language)."},
        "variables": ref("Variables"),
        "template_parameters": ref("TemplateParameters"),
        "button_payloads": ref("ButtonPayloads"),
        "header_url": {"type": "string", "description": "The header media of everyone without their own."},
        "list_ids": {"type": "array", "items": ID},
        "segment_id": {**ID, "description": "A segment (GET /segments): its contacts when the broadcast launches."},
        "retarget": ref("Retarget"),
        "sending_window": {"oneOf": [ref("SendingWindow"), {"type": "null"}]},
        "recipients": {"type": "array", "items": ref("RecipientIn"), "maxItems": MAX_RECIPIENTS},
        "schedule_at": {"type": "string", "format": "date-time", "description": "UTC, ISO 8601, in the future."},
        "send": {"type": "boolean", "description": "Launch at once (202) instead of saving a draft (201)."},
    }, required=("template_name",)),
    "BroadcastUpdate": obj({
        "name": {"type": "string", "maxLength": 200}, "sender_id": ID,
        "template_name": {"type": "string", "minLength": 1}, "language": STRING,
        "variables": ref("Variables"), "template_parameters": ref("TemplateParameters"),
        "button_payloads": ref("ButtonPayloads"), "header_url": STRING,
        "list_ids": {"type": "array", "items": ID}, "retarget": {"oneOf": [ref("Retarget"), {"type": "null"}]},
        "sending_window": {"oneOf": [ref("SendingWindow"), {"type": "null"}]},
        "segment_id": {"oneOf": [ID, {"type": "null"}]},
        "schedule_at": {"type": ["string", "null"], "format": "date-time",
                        "description": "A time schedules the draft; null takes the schedule off."},
    }, required=(), minProperties=1),
    "RecipientsAdd": obj({"recipients": {"type": "array", "items": ref("RecipientIn"), "minItems": 1,
                                         "maxItems": MAX_RECIPIENTS}}),
    # --- Broadcasts: what the API answers ---
    "Broadcast": obj({
        "id": INTEGER, "uuid": UUID, "name": STRING,
        "status": {"type": "string", "enum": list(CAMPAIGN_STATES)},
        "status_label": STRING,
        "sender": obj({"id": INTEGER, "label": STRING, "phone_number": STRING}),
        "template": obj({"name": STRING, "language": STRING}),
        "audience": obj({"lists": {"type": "array", "items": INTEGER},
                         "segment": {"oneOf": [obj({"id": INTEGER, "name": STRING, "deleted": {
                             "type": "boolean", "description": "Deleted since: the broadcast keeps its conditions."}}),
                             {"type": "null"}]},
                         "retarget": {"oneOf": [ref("Retarget"), {"type": "null"}]},
                         "direct": {"type": "boolean", "description": "Recipients were added one by one."}}),
        "variables": {"type": "object"}, "button_payloads": ref("ButtonPayloads"), "header_url": STRING,
        "sending_window": {"oneOf": [ref("SendingWindow"), {"type": "null"}]},
        "origin": STRING,
        "notice": {"type": ["string", "null"], "description": "Why it is paused, waiting or back to draft."},
        "counts": COUNTS,
        "rates": obj({"delivery_rate": PERCENT, "read_rate": PERCENT, "response_rate": PERCENT}),
        "processed": {"type": "integer", "minimum": 0, "description": "Rows no longer queued."},
        "estimated_cost": {"type": ["string", "null"], "description": "The rate card's estimate, fixed when its "
                           "rows were written (a decimal as text; null before launch)."},
        "unpriced_recipients": {"type": "integer", "minimum": 0, "description": "Recipients the estimate could not "
                                "price: the rate card has no price for their country."},
        "actual_cost": {"type": "string", "description": "What Meta billed so far, by the billable statuses "
                        "(a decimal as text)."},
        "currency": STRING,
        "created_at": WHEN, "updated_at": WHEN, "scheduled_at": WHEN, "launched_at": WHEN, "started_at": WHEN,
        "completed_at": WHEN,
    }),
    "RecipientsReport": obj({"added": COUNT, "duplicates": COUNT,
                             "skipped": {"type": "array", "items": ref("RecipientError"),
                                         "description": "Stored but never sent (opted out)."},
                             "errors": {"type": "array", "items": ref("RecipientError")},
                             "total_recipients": COUNT}),
    "Forecast": obj({"total": COUNT, "sendable": COUNT, "opted_out": COUNT, "missing_values": COUNT},
                    description="The list, segment or retarget audience as it stands; its rows are written when it "
                                "launches."),
    "BroadcastAccepted": obj({"data": ref("Broadcast"), "accepted": COUNT, "rejected": COUNT,
                              "recipients": {"oneOf": [ref("RecipientsReport"), {"type": "null"}]},
                              "forecast": {"oneOf": [ref("Forecast"), {"type": "null"}]}}),
    "RecipientLog": obj(LOG_ROW),
    "LinkClicks": obj({"variable": STRING,
                       "url": {"type": "string", "description": "The address it opens; empty when each recipient's "
                                                                "own (a contact attribute)."},
                       "clicks": COUNT, "unique": {**COUNT, "description": "Recipients who opened it."}}),
    "RecipientClicks": obj({"id": INTEGER, "phone_number": STRING, "clicked_at": WHEN, "clicks": COUNT}),
    "BroadcastClicks": obj({
        "broadcast_id": INTEGER, "clicked": {**COUNT, "description": "Recipients who opened a tracked link."},
        "delivered": COUNT,
        "click_rate": {"type": ["number", "null"], "description": "clicked, in percent of delivered"},
        "links": {"type": "array", "items": ref("LinkClicks")},
        "recipients": {"type": "array", "items": ref("RecipientClicks"),
                       "description": "Those who clicked, in send order, a page at a time."}}),
    "NumberRecipient": obj({**LOG_ROW, "broadcast": obj({"id": INTEGER, "name": STRING})},
                           description="A recipient row with the broadcast it belongs to."),
    "Dashboard": obj({
        "from": WHEN, "to": WHEN,
        "broadcasts": obj({"total": COUNT, "by_status": obj({s: COUNT for s in CAMPAIGN_STATES})}),
        "messages": COUNTS,
        "rates": obj({"delivery_rate": PERCENT, "read_rate": PERCENT, "response_rate": PERCENT}),
    }),
    "DashboardReport": obj({
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "group": {"type": "string", "enum": ["day", "week", "month"]}, "zone": STRING,
        "totals": ref("DailyFigures"),
        "trend": {"type": "array", "items": obj({"period": {"type": "string", "format": "date",
                                                            "description": "The period's first day."},
                                                 **DAILY_FIGURES})},
        "templates": {"type": "array", "items": obj({"name": STRING, **DAILY_FIGURES})},
        "senders": {"type": "array", "items": obj({"name": STRING, **DAILY_FIGURES})},
        "failures": {"type": "array", "items": obj({"code": {"type": ["integer", "null"]}, "title": STRING,
                                                    "failed": COUNT})},
        "hours": {"type": "array", "items": obj({"hour": INTEGER, "sent": COUNT, "read": COUNT, "replied": COUNT,
                                                 "read_rate": SENT_PERCENT, "reply_rate": SENT_PERCENT})},
    }),
    "DailyFigures": obj(DAILY_FIGURES),
    "Sender": obj({"id": INTEGER, "uuid": UUID, "label": STRING, "phone_number": STRING, "phone_number_id": STRING,
                   "throughput": INTEGER, "messaging_limit": {"type": ["integer", "null"]},
                   "sandbox": {"type": "boolean"}}),
    "Template": obj({"id": INTEGER, "uuid": UUID, "name": STRING, "language": STRING, "status": STRING, "category": STRING,
                     "parameter_format": STRING, "header": {"type": ["string", "null"]},
                     "parameters": {"type": "array", "items": obj({"key": STRING, "label": STRING})},
                     "quick_replies": {"type": "array", "items": obj({"index": INTEGER, "text": STRING}),
                                       "description": "Its quick-reply buttons: a broadcast's `button_payloads` "
                                                      "name them by index."}}),
    # --- The Inbox ---
    "Conversation": obj({
        "id": INTEGER,
        "contact": obj({"id": INTEGER, "phone_number": STRING, "name": STRING, "opted_out": {"type": "boolean"}}),
        "status": {"type": "string", "enum": list(CONVERSATION_STATES)},
        "unread": COUNT, "needs_answer": {"type": "boolean"},
        "assigned_to": {"oneOf": [obj({"id": INTEGER, "name": STRING}), {"type": "null"}]},
        "campaign_id": {"type": ["integer", "null"], "description": "The broadcast the customer last answered."},
        "last_text": STRING, "last_message_at": WHEN, "last_customer_message_at": WHEN,
        "window": ref("Window"),
    }),
    "Window": obj({"open": {"type": "boolean", "description": "Free-form messages may go (24 hours from the "
                                                             "customer's last message); else only a template."},
                   "closes_at": WHEN}),
    "KeysetMeta": obj({"per_page": {"type": "integer", "minimum": 1},
                       "next_before": {"type": ["string", "null"],
                                       "description": "Pass as `before` for the next (older) page; null on the "
                                                      "last page."}}),
    "MessageError": obj({"code": {"type": ["integer", "null"], "description": "Meta's error code."},
                         "title": STRING, "reason": {"type": "string", "description": "In plain words."}}),
    "Message": obj({
        "id": {"type": "integer", "description": "Unique within its `source`."},
        "at": WHEN,
        "source": {"type": "string", "enum": ["broadcast", "customer", "answer"]},
        "direction": {"type": "string", "enum": ["in", "out"]},
        "type": {"type": "string", "description": "text, image, video, audio, document, template; a customer's "
                                                  "may also be location, contacts, button, reaction…"},
        "text": {"type": "string", "description": "The text, a caption, or a template as the customer read it."},
        "status": {"type": ["string", "null"], "description": "Ours only: pending, sending, unknown, accepted, "
                                                            "sent, delivered, read or failed."},
        "error": {"oneOf": [ref("MessageError"), {"type": "null"}]},
        "broadcast": {"oneOf": [obj({"id": INTEGER, "name": STRING}), {"type": "null"}]},
        "template": {"oneOf": [obj({"name": STRING, "language": STRING}), {"type": "null"}]},
        "media": {"oneOf": [obj({"status": {"type": "string", "description": "A customer's file: pending, stored or "
                                                                       "failed (its download); an answer's: stored "
                                                                       "(uploaded here) or remote (an id or link)."},
                                 "mime_type": STRING, "filename": STRING,
                                 "size": {"type": ["integer", "null"]}}), {"type": "null"}]},
        "sent_by": {"type": ["string", "null"], "description": "The staff member who answered (null: the API or "
                                                             "an automatic reply)."},
        "automatic": {"type": "boolean", "description": "An answer the workspace sent by itself: its reply to an "
                                                        "opt-out or opt-in keyword (Settings)."},
    }),
    "MessageSend": obj({
        "to": {"oneOf": [PHONE_IN, ID], "description": "A contact's phone number, or its id."},
        "type": {"type": "string", "enum": ["text", *MEDIA_ANSWERS, "template"]},
        "text": {"type": "string", "maxLength": MAX_TEXT, "description": "The text, or a media message's caption."},
        "media_id": {"type": "string", "minLength": 1, "maxLength": 1024,
                     "description": "A media id from Meta's media upload."},
        "link": {"type": "string", "pattern": "^https://", "maxLength": 1024,
                 "description": "Or an https link Meta fetches the file from."},
        "filename": {"type": "string", "maxLength": 255, "description": "A document's name, as the customer sees "
                                                                        "it."},
        "template_name": {"type": "string", "minLength": 1},
        "language": {"type": "string", "description": "Default en_US (or the template's only language)."},
        "template_parameters": ref("TemplateParameters"),
        "header_url": STRING,
        "button_payloads": ref("ButtonPayloads"),
    }, required=("to", "type")),
    "ListMessageSend": obj({
        "type": {"type": "string", "enum": ["text", *MEDIA_ANSWERS]},
        "text": {"type": "string", "maxLength": MAX_TEXT, "description": "The text, or a media message's caption."},
        "media_id": {"type": "string", "minLength": 1, "maxLength": 1024},
        "link": {"type": "string", "pattern": "^https://", "maxLength": 1024},
        "filename": {"type": "string", "maxLength": 255},
    }, required=("type",)),
    "ListMessageResult": obj({
        "contact_id": INTEGER, "phone_number": STRING, "name": STRING,
        "status": {"type": "string", "enum": ["queued", "skipped"]},
        "message_id": {"type": ["integer", "null"], "description": "The answer's id in the contact's conversation "
                                                                   "(its status follows there)."},
        "reason": {"type": ["string", "null"], "description": "Why it was skipped: outside the 24-hour window — "
                                                              "needs a template, or opted out."},
    }),
    "ListMessages": obj({"list_id": INTEGER, "queued": COUNT, "skipped": COUNT,
                         "results": {"type": "array", "items": ref("ListMessageResult")}}),
    # --- Contacts and tags ---
    "Contact": obj({
        "id": INTEGER, "uuid": UUID, "phone_number": STRING, "name": STRING,
        "country": {"type": "string", "description": "The number's country (ISO 3166), \"\" for non-geographic "
                                                    "numbers."},
        "attributes": {"type": "object", "description": "As given (imports, the API); templates read them."},
        "tags": {"type": "array", "items": STRING},
        "lists": {"type": "array", "items": obj({"id": INTEGER, "name": STRING})},
        "opted_out": {"type": "boolean"}, "opted_out_at": WHEN, "created_at": WHEN, "updated_at": WHEN,
    }),
    "ContactCursorMeta": obj({
        "per_page": {"type": "integer", "minimum": 1},
        "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on "
                                                                   "the last page."},
        "notes": {"type": "array", "items": STRING,
                  "description": "What the filter could not find, e.g. a tag nobody has (not errors)."}}),
    "ContactIn": obj({
        "phone_number": PHONE_IN,
        "country": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                    "description": "How to read a number without its country code (default: the request's "
                                   "`country`, else the workspace's)."},
        "name": {"type": "string", "maxLength": 200, "description": "Replaces the contact's name."},
        "attributes": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                       "description": "Merged into the contact's: \"\" or null removes one; names are one whatever "
                                      "their case. A name new to the workspace gets the type its values read as."},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20, "description": "Added."},
        "lists": {"type": "array", "items": ID, "description": "List ids the contact is added to."},
    }, required=("phone_number",)),
    "ContactsSave": obj({
        "contacts": {"type": "array", "items": ref("ContactIn"), "minItems": 1, "maxItems": MAX_RECIPIENTS},
        "country": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                    "description": "The default country of this request's numbers."}}, required=("contacts",)),
    "ContactResult": obj({
        "index": {"type": "integer", "minimum": 0, "description": "Position in the request's `contacts`."},
        "status": {"type": "string", "enum": ["created", "updated", "error"]},
        "id": {"type": ["integer", "null"]}, "phone_number": {"type": ["string", "null"], "description": "E.164"},
        "error": {"oneOf": [obj({"code": {"type": "string", "enum": ["invalid", "duplicate", "not_found"]},
                                 "message": STRING}), {"type": "null"}]}}),
    "ContactsWrittenReport": obj({"created": COUNT, "updated": COUNT, "errors": COUNT,
                            "results": {"type": "array", "items": ref("ContactResult")}}),
    "TagsAdd": obj({"tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                             "maxItems": 20}}),
    "TagCount": obj({"id": INTEGER, "name": STRING, "contact_count": COUNT}),
    # --- Segments ---
    "SegmentDefinition": {
        "type": "object", "required": ["conditions"],
        "description": "Conditions combined with `match` all (default) or any. Each is {field, op, value}: "
                       "`attribute` (with `name`; text: equals, not_equals, contains, one_of; number: equals, "
                       "greater_than, less_than; date: on, before, after; yes/no: is_yes, is_no; any type: "
                       "is_empty, is_not_empty), `tag` (has, has_not), `list` (in, not_in a list id), `opted_out` "
                       "(yes, no), `country` (one_of, not_one_of codes), `received` and `replied` (within_days, "
                       "not_within_days), `read` (never), `failed` (with_code, any). E.g. {\"match\": \"all\", "
                       "\"conditions\": [{\"field\": \"attribute\", \"name\": \"city\", \"op\": \"equals\", "
                       "\"value\": \"Lyon\"}, {\"field\": \"tag\", \"op\": \"has\", \"value\": \"vip\"}, "
                       "{\"field\": \"received\", \"op\": \"not_within_days\", \"value\": 7}]}.",
        "properties": {"match": {"type": "string", "enum": ["all", "any"]},
                       "conditions": {"type": "array", "items": {"type": "object"}}}},
    "SegmentCreate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                          "definition": ref("SegmentDefinition")}),
    "SegmentUpdate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                          "definition": ref("SegmentDefinition")}, required=(), minProperties=1),
    "SegmentCountOf": obj({"definition": ref("SegmentDefinition")}),
    "Segment": obj({"id": INTEGER, "uuid": UUID, "name": STRING,
                    "definition": {"type": "object", "description": "As saved: normalised (attribute names as the "
                                                                    "workspace spells them, with their `type`)."},
                    "described": {"type": "array", "items": STRING, "description": "Each condition in words."},
                    "created_at": WHEN, "updated_at": WHEN}),
    "SegmentCounted": obj({"count": COUNT, "definition": {"type": "object", "description": "As normalised."},
                           "notes": {"type": "array", "items": STRING,
                                     "description": "What matches nobody, e.g. an attribute no contact has."}}),
    "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths", "components"]},
    "Deleted": data(obj({"id": INTEGER, "deleted": {"const": True}})),
}

RESPONSES = {
    "ListPage": page_of("ListSummary"),
    "ListOne": data(ref("ListDetail"), meta=ref("PageMeta")),
    "ListWrittenOne": data(ref("ListWritten")),
    "RecipientsAdded": data(ref("RecipientsReport")),
    "BroadcastPage": page_of("Broadcast"),
    "BroadcastOne": data(ref("Broadcast")),
    "RecipientLogPage": data({"type": "array", "items": ref("RecipientLog")}, meta=ref("CursorMeta")),
    "RecipientLogOne": data(ref("RecipientLog")),
    "BroadcastClicksOne": data(ref("BroadcastClicks"), meta=ref("CursorMeta")),
    "NumberHistory": data({"type": "array", "items": ref("NumberRecipient")}, meta=ref("CursorMeta")),
    "DashboardOne": data(ref("Dashboard")),
    "DashboardReportOne": data(ref("DashboardReport")),
    "SenderList": data({"type": "array", "items": ref("Sender")}),
    "TemplateList": data({"type": "array", "items": ref("Template")}),
    "ConversationPage": data({"type": "array", "items": ref("Conversation")}, meta=ref("KeysetMeta")),
    "MessagePage": data({"type": "array", "items": ref("Message")}, meta=ref("KeysetMeta")),
    "MessageOne": data(ref("Message")),
    "ListMessagesOne": data(ref("ListMessages")),
    "ContactPage": data({"type": "array", "items": ref("Contact")}, meta=ref("ContactCursorMeta")),
    "ContactOne": data(ref("Contact")),
    "ContactsWritten": data(ref("ContactsWrittenReport")),
    "TagList": data({"type": "array", "items": ref("TagCount")}),
    "SegmentList": data({"type": "array", "items": ref("Segment")}),
    "SegmentOne": data(ref("Segment")),
    "SegmentCount": data(ref("SegmentCounted")),
}
SCHEMAS.update(RESPONSES)

SCOPE_DESCRIPTIONS = {
    "lists:read": "Read lists and their members.",
    "lists:write": "Create, change and delete lists (includes lists:read).",
    "broadcasts:read": "Read broadcasts, their recipients' log, the dashboard, senders and templates.",
    "broadcasts:send": "Create, change, send, pause, resume, cancel and delete broadcasts (includes "
                       "broadcasts:read).",
    "inbox:read": "Read the Inbox: conversations and their messages.",
    "inbox:send": "Send messages to one contact, and free-form messages to a list's members inside their 24-hour "
                  "window (includes inbox:read).",
    "contacts:read": "Read contacts (with their attributes, tags and lists) and the tags in use.",
    "contacts:write": "Create and update contacts in batches, tag and untag them (includes contacts:read).",
    "segments:read": "Read segments and count who they match.",
    "segments:write": "Create, change and delete segments (includes segments:read).",
}
assert set(SCOPE_DESCRIPTIONS) == set(SCOPES)


def root(schema: dict) -> dict:
    """A schema that can be validated on its own: the components its $refs point at travel with it."""
    return {**schema, "components": {"schemas": SCHEMAS}}

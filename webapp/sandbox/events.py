"""Webhook payloads in Meta's shape (reference §3): the envelope, statuses, inbound messages and
`user_preferences`. Pure functions; webhooks.py signs and delivers what they build."""
from __future__ import annotations

import time
from typing import Any

from webapp.sandbox.errors import webhook_error

MARKETING_CAP = 131049


def envelope(waba_id: str, field: str, value: dict, at: int | None = None) -> dict:
    """The POST body; account-level changes (quality, account updates) carry the entry's `time`, as Meta's do."""
    entry: dict[str, Any] = {"id": waba_id, **({"time": at} if at is not None else {}),
                             "changes": [{"value": value, "field": field}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


# Meta's phone_number_quality_update events, and the tiers its `current_limit` names.
QUALITY_EVENTS = ("FLAGGED", "UNFLAGGED", "UPGRADE", "DOWNGRADE", "ONBOARDING", "THROUGHPUT_UPGRADE")
TIERS = ("TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED", "TIER_NOT_SET")
# account_update events that restrict the account (the sandbox emits these; Meta has many more).
ACCOUNT_EVENTS = ("ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE")


def quality_update(display_number: str, event: str, current_limit: str, old_limit: str | None = None) -> dict:
    """A `phone_number_quality_update` value: no metadata, the number by its display digits; old_limit only when
    the messaging limit changed."""
    item = {"display_phone_number": display_number, "event": event, "current_limit": current_limit}
    if old_limit is not None and old_limit != current_limit:
        item["old_limit"] = old_limit
    return item


def account_update(display_number: str, event: str, restriction_type: str) -> dict:
    """An `account_update` value for a restriction of business-initiated messaging."""
    item: dict[str, Any] = {"phone_number": display_number, "event": event}
    if event == "ACCOUNT_RESTRICTION":
        item["restriction_info"] = [{"restriction_type": restriction_type, "expiration": int(time.time()) + 86400}]
    elif event == "ACCOUNT_VIOLATION":
        item["violation_info"] = {"violation_type": restriction_type}
    else:
        item["ban_info"] = {"waba_ban_state": restriction_type, "waba_ban_date": time.strftime("%Y-%m-%d")}
    return item


# message_template_status_update events the sandbox emits, and the status each leaves the template in.
TEMPLATE_EVENTS = {"APPROVED": "APPROVED", "REJECTED": "REJECTED", "PAUSED": "PAUSED", "DISABLED": "DISABLED",
                   "REINSTATED": "APPROVED", "FLAGGED": None}
# The `other_info` Meta adds when it pauses or flags a template: (title, description).
TEMPLATE_WARNINGS = {"PAUSED": ("FIRST_PAUSE", "Your WhatsApp message template has been paused because of customer "
                                               "feedback."),
                     "FLAGGED": ("FLAGGED", "Your WhatsApp message template's quality is low.")}


def template_status_update(template: dict, event: str, reason: str) -> dict:
    """A `message_template_status_update` value, as Meta's reference shows it."""
    item: dict[str, Any] = {"event": event, "message_template_id": int(template["id"]),
                            "message_template_name": template["name"],
                            "message_template_language": template["language"], "reason": reason,
                            "message_template_category": template["category"]}
    if event == "DISABLED":
        item["disable_info"] = {"disable_date": int(time.time())}
    if event in TEMPLATE_WARNINGS:
        title, description = TEMPLATE_WARNINGS[event]
        item["other_info"] = {"title": title, "description": description}
    return item


def value(phone_number_id: str, display_number: str, **parts: Any) -> dict:
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display_number, "phone_number_id": phone_number_id},
            **parts}


def status(wamid: str, status_name: str, wa_id: str, *, category: str, callback_data: str | None,
           error_code: int | None = None, free: bool = False) -> dict:
    """One `statuses[]` item: pricing on sent and delivered, errors on failed, callback data echoed."""
    item: dict[str, Any] = {"id": wamid, "status": status_name, "timestamp": _now(), "recipient_id": wa_id}
    # Meta's example of the 131049 failure carries no biz_opaque_callback_data; every other status does.
    if callback_data is not None and error_code != MARKETING_CAP:
        item["biz_opaque_callback_data"] = callback_data
    if status_name in ("sent", "delivered"):
        item["pricing"] = pricing(category, free)
    if error_code is not None:
        item["errors"] = [webhook_error(error_code)]
    return item


def pricing(category: str, free: bool = False) -> dict:
    """Per-message pricing (PMP): templates are billable, unless sent in a free entry point window (`free`); replies
    in the service window are free."""
    if category == "service":
        return {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
    if free:
        return {"billable": False, "pricing_model": "PMP", "type": "free_entry_point", "category": category}
    return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": category}


def contact(wa_id: str, name: str) -> dict:
    return {"profile": {"name": name}, "wa_id": wa_id}


def inbound_message(message_id: str, wa_id: str, *, text: str | None = None, button: tuple[str, str] | None = None,
                    media: tuple[str, dict] | None = None, context: tuple[str, str] | None = None) -> dict:
    """One `messages[]` item from a customer: a text, a quick-reply press (`button` = (label, payload)), or a
    file (`media` = (type, its object: id, mime_type, sha256, and caption or filename when there are)).

    `context` = (business display number, wamid replied to) for a quoted reply or a button press.
    """
    message: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": _now()}
    if context is not None:
        message["context"] = {"from": context[0], "id": context[1]}
    if button is not None:
        label, payload = button
        message["type"] = "button"
        message["button"] = {"payload": payload, "text": label}
    elif media is not None:
        message["type"], message[media[0]] = media
    else:
        message["type"] = "text"
        message["text"] = {"body": text or ""}
    return message


def inbound_media(media_id: str, mime_type: str, sha256: str, *, caption: str | None = None,
                  filename: str | None = None) -> dict:
    """The object of a customer's image, video, audio, document or sticker, as Meta's webhook carries it: the
    app fetches the file with GET /{id}, then its URL."""
    item: dict[str, Any] = {}
    if caption:
        item["caption"] = caption
    if filename:
        item["filename"] = filename
    return {**item, "mime_type": mime_type, "sha256": sha256, "id": media_id}


def user_preference(wa_id: str, choice: str = "stop") -> dict:
    """One `user_preferences[]` item: the customer stopped (or resumed) marketing messages."""
    detail = "User requested to stop marketing messages" if choice == "stop" else \
        "User requested to resume marketing messages"
    return {"wa_id": wa_id, "detail": detail, "category": "marketing_messages", "value": choice,
            "timestamp": int(time.time())}


def _now() -> str:
    return str(int(time.time()))

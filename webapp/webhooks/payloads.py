"""Meta's webhook JSON (reference §3) read into plain values. Anything unexpected is skipped, never fatal:
Meta adds fields and types over time, and one odd item must not stop the rest of a POST from applying."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from webapp.campaigns.statuses import TRACKED_STATUSES, Pricing, StatusUpdate
from webapp.meta_errors import MetaError, read_error_item
from webapp.senders.quality import RESTRICTIONS, NumberUpdate
from webapp.senders.template_updates import CATEGORY_FIELD, STATUS_FIELD, TemplateUpdate
from webapp.timestamps import utcnow

# What our sender puts in biz_opaque_callback_data: the recipient row's id.
CALLBACK = re.compile(r"r:([0-9]{1,18})")


@dataclass(frozen=True)
class Inbound:
    wamid: str
    phone: str  # E.164
    profile_name: str
    type: str
    text: str  # what the customer wrote, or the label of what they tapped
    button_text: str  # a quick-reply or interactive button's label
    button_payload: str
    context_wamid: str  # the message they replied to or tapped a button of
    at: datetime
    phone_number_id: str = ""  # our number they wrote to
    media: dict | None = None  # an image, video, audio, document or sticker: {"id", "mime_type", "filename"}
    new_phone: str = ""  # WhatsApp's notice that the customer changed number: the new one ("+" and digits)


@dataclass(frozen=True)
class PreferenceChange:
    phone: str
    category: str
    value: str  # stop | resume
    at: datetime


@dataclass
class Change:
    """One `entry[].changes[]` item that we understand, with the number it concerns."""

    phone_number_id: str
    statuses: list[StatusUpdate] = field(default_factory=list)
    messages: list[Inbound] = field(default_factory=list)
    preferences: list[PreferenceChange] = field(default_factory=list)
    errors: list[MetaError] = field(default_factory=list)  # system errors reported without a status


def read_changes(payload: Any) -> list[Change]:
    """Every `messages` and `user_preferences` change of a webhook body; other fields are ignored."""
    changes = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return changes
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") not in ("messages", "user_preferences") or not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            names = {str(c.get("wa_id")): _profile_name(c) for c in _dicts(value.get("contacts"))}
            changes.append(Change(
                phone_number_id=str(metadata.get("phone_number_id") or ""),
                statuses=[s for s in map(read_status, _dicts(value.get("statuses"))) if s],
                messages=[m for m in (read_message(m, names, str(metadata.get("phone_number_id") or ""))
                                      for m in _dicts(value.get("messages"))) if m],
                preferences=[p for p in map(read_preference, _dicts(value.get("user_preferences"))) if p],
                errors=[read_error_item(e) for e in _dicts(value.get("errors"))],
            ))
    return changes


def _account_changes(payload: Any, fields: tuple[str, ...]) -> Iterator[tuple[str, dict, str, datetime]]:
    """(field, value, WhatsApp account id, the entry's time) of each change of these fields in a webhook body:
    account-level changes, which their appliers order by Meta's `time` (epoch seconds), not by arrival."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return
    for entry in _dicts(payload.get("entry")):
        at, waba_id = timestamp(entry.get("time")), str(entry.get("id") or "")
        for change in _dicts(entry.get("changes")):
            if change.get("field") in fields and isinstance(change.get("value"), dict):
                yield change["field"], change["value"], waba_id, at


def read_number_updates(payload: Any) -> list[NumberUpdate]:
    """Every `phone_number_quality_update` and restricting `account_update` change of a webhook body."""
    updates = []
    for field_name, value, waba_id, at in _account_changes(payload, ("phone_number_quality_update", "account_update")):
        if not isinstance(value.get("event"), str):
            continue
        number = re.sub(r"\D", "", str(value.get("display_phone_number") or value.get("phone_number") or ""))
        if field_name == "phone_number_quality_update":
            # Meta moves the tier from current_limit to max_daily_conversations_per_business (2026).
            tier = value.get("max_daily_conversations_per_business") or value.get("current_limit") or ""
            updates.append(NumberUpdate(field_name, waba_id, number, value["event"], str(tier), at))
        elif value["event"] in RESTRICTIONS:
            updates.append(NumberUpdate(field_name, waba_id, number, value["event"], "", at,
                                        detail=_restriction(value)))
    return updates


def read_template_updates(payload: Any) -> list[TemplateUpdate]:
    """Every `message_template_status_update` and finished `template_category_update` change of a webhook body."""
    updates = []
    for field_name, value, waba_id, at in _account_changes(payload, (STATUS_FIELD, CATEGORY_FIELD)):
        other = value.get("other_info") if isinstance(value.get("other_info"), dict) else {}
        finished = field_name == CATEGORY_FIELD and "previous_category" in value
        updates.append(TemplateUpdate(
            field_name, waba_id, str(value.get("message_template_id") or ""),
            str(value.get("message_template_name") or ""), str(value.get("message_template_language") or ""),
            at, event=str(value.get("event") or "").upper(),
            reason=str(other.get("description") or value.get("reason") or "")[:300],
            new_category=str(value.get("new_category") or "").upper() if finished else ""))
    return updates


def _restriction(value: dict) -> str:
    """The restriction or violation an account_update names, in Meta's words."""
    kinds = [str(item.get("restriction_type") or "") for item in _dicts(value.get("restriction_info"))]
    violation = value.get("violation_info") if isinstance(value.get("violation_info"), dict) else {}
    ban = value.get("ban_info") if isinstance(value.get("ban_info"), dict) else {}
    return ", ".join(filter(None, [*kinds, str(violation.get("violation_type") or ""),
                                   str(ban.get("waba_ban_state") or "")]))[:200]


def read_status(item: dict) -> StatusUpdate | None:
    """One `statuses[]` item, or None when it is not one that moves a row."""
    wamid, status = item.get("id"), item.get("status")
    if not isinstance(wamid, str) or not wamid or status not in TRACKED_STATUSES:
        return None
    errors = list(_dicts(item.get("errors")))
    failure = read_error_item(errors[0]) if status == "failed" and errors else None
    if status == "failed" and failure is None:
        failure = MetaError(None, "Failed", "")
    return StatusUpdate(
        wamid=wamid, status=status, at=timestamp(item.get("timestamp")),
        row_id=callback_row_id(item.get("biz_opaque_callback_data")), failure=failure,
        pricing=_pricing(item.get("pricing")), raw=item,
    )


def read_message(item: dict, names: dict[str, str], phone_number_id: str = "") -> Inbound | None:
    """One `messages[]` item from a customer."""
    wamid, sender = item.get("id"), str(item.get("from") or "")
    digits = re.sub(r"\D", "", sender)
    if not isinstance(wamid, str) or not wamid or not digits:
        return None
    kind = str(item.get("type") or "unknown")
    text, button_text, payload = _content(kind, item)
    context = item.get("context") if isinstance(item.get("context"), dict) else {}
    return Inbound(
        wamid=wamid, phone=f"+{digits}", profile_name=names.get(sender, "")[:200], type=kind[:16],
        text=text, button_text=button_text, button_payload=payload,
        context_wamid=str(context.get("id") or "")[:128], at=timestamp(item.get("timestamp")),
        phone_number_id=phone_number_id, media=_media(kind, item), new_phone=_new_number(kind, item),
    )


def _new_number(kind: str, item: dict) -> str:
    """The customer's new number, from WhatsApp's `user_changed_number` notice (`wa_id`, once `new_wa_id`)."""
    part = item.get("system") if kind == "system" and isinstance(item.get("system"), dict) else {}
    if part.get("type") not in ("user_changed_number", "customer_changed_number"):
        return ""
    digits = re.sub(r"\D", "", str(part.get("wa_id") or part.get("new_wa_id") or ""))
    return f"+{digits}" if 7 <= len(digits) <= 15 else ""  # E.164's bounds


def read_preference(item: dict) -> PreferenceChange | None:
    """One `user_preferences[]` item: a customer stopped or resumed a category of messages."""
    digits = re.sub(r"\D", "", str(item.get("wa_id") or ""))
    if not digits or item.get("value") not in ("stop", "resume"):
        return None
    return PreferenceChange(phone=f"+{digits}", category=str(item.get("category") or ""),
                            value=item["value"], at=timestamp(item.get("timestamp")))


def callback_row_id(value: Any) -> int | None:
    """The recipient row id our sender put in biz_opaque_callback_data ("r:<id>"), else None."""
    match = CALLBACK.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def timestamp(value: Any) -> datetime:
    """Meta's epoch seconds (a string on messages and statuses, an integer on user_preferences)."""
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()  # a missing or odd timestamp: the time we heard of it is the best we know


def _content(kind: str, item: dict) -> tuple[str, str, str]:
    """(text, button label, button payload) of an inbound message, whatever its type."""
    part = item.get(kind) if isinstance(item.get(kind), dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), "", ""
    if kind == "button":  # a template's quick-reply button
        label = str(part.get("text") or part.get("payload") or "")
        return label, label, str(part.get("payload") or "")
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply")
        if isinstance(reply, dict):
            label = str(reply.get("title") or "")
            return label, label, str(reply.get("id") or "")
        flow = part.get("nfm_reply")  # a WhatsApp Flow's form, sent back
        if isinstance(flow, dict):
            return f"[Form: {flow.get('name') or 'flow'}] {flow.get('body') or ''}".strip(), "", ""
        return "", "", ""
    if kind == "system":  # e.g. the customer changed their number (`wa_id` is the new one)
        return str(part.get("body") or ""), "", ""
    if kind == "order":  # a cart sent from the business's catalogue
        items = list(_dicts(part.get("product_items")))
        ordered = f"[Order: {len(items)} product{'s' if len(items) != 1 else ''}]"
        return f"{ordered} {part.get('text') or ''}".strip(), "", ""
    if kind == "reaction":
        return str(part.get("emoji") or ""), "", ""
    if kind == "location":
        place = ", ".join(str(part[key]) for key in ("name", "address") if part.get(key))
        return f"{place} ({part.get('latitude')}, {part.get('longitude')})".strip(), "", ""
    if kind == "contacts":
        cards = [f"{(c.get('name') or {}).get('formatted_name', '')} "
                 + " ".join(str(p.get("phone") or "") for p in _dicts(c.get("phones")))
                 for c in _dicts(item.get("contacts"))]
        return "; ".join(card.strip() for card in cards), "", ""
    return str(part.get("caption") or ""), "", ""  # media: the caption, when there is one


def _media(kind: str, item: dict) -> dict | None:
    """The file of a media message, for the inbox to download (its id is Meta's, valid for a while)."""
    part = item.get(kind) if isinstance(item.get(kind), dict) else {}
    if kind not in ("image", "video", "audio", "document", "sticker") or not part.get("id"):
        return None
    return {"id": str(part["id"]), "mime_type": str(part.get("mime_type") or ""),
            "filename": str(part.get("filename") or "")}


def _pricing(value: Any) -> Pricing | None:
    if not isinstance(value, dict):
        return None
    billable = value.get("billable")
    return Pricing(billable=billable if isinstance(billable, bool) else None,
                   category=str(value.get("category") or "")[:32], model=str(value.get("pricing_model") or "")[:8])


def _profile_name(contact: dict) -> str:
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    return str(profile.get("name") or "")


def _dicts(value: Any):
    """The dict items of a JSON array; anything else in it (or no array at all) is skipped."""
    return (item for item in value if isinstance(item, dict)) if isinstance(value, list) else ()

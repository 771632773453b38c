"""Webhook bodies in Meta's shape (reference §3), signed the way Meta signs them — written here from the
reference, not from the app's code, so the tests check the endpoint against Meta rather than against itself."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "100000000000001"  # tests/factories.py's sender
DISPLAY_NUMBER = "15550001234"


def envelope(field: str, value: dict, phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "200000000000001", "changes": [{
        "field": field, "value": {"messaging_product": "whatsapp",
                                  "metadata": {"display_phone_number": DISPLAY_NUMBER,
                                               "phone_number_id": phone_number_id}, **value}}]}]}


def statuses(*items: dict, phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    return envelope("messages", {"statuses": list(items)}, phone_number_id)


def status(wamid: str, name: str, at: datetime, wa_id: str = "15550000001", row_id: int | None = None,
           error: tuple[int, str, str] | None = None, pricing: bool = False) -> dict:
    item = {"id": wamid, "status": name, "timestamp": str(int(at.timestamp())), "recipient_id": wa_id}
    if row_id is not None:
        item["biz_opaque_callback_data"] = f"r:{row_id}"
    if pricing:
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    if error:
        code, title, details = error
        item["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details},
                           "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]
    return item


def message(wamid: str, wa_id: str, at: datetime, text: str | None = None, context: str | None = None,
            button: tuple[str, str] | None = None, name: str = "Ana") -> dict:
    """An inbound text, or a template quick-reply press (`button` = (label, payload))."""
    item = {"from": wa_id, "id": wamid, "timestamp": str(int(at.timestamp()))}
    if context:
        item["context"] = {"from": DISPLAY_NUMBER, "id": context}
    if button:
        item["type"] = "button"
        item["button"] = {"payload": button[1], "text": button[0]}
    else:
        item["type"] = "text"
        item["text"] = {"body": text}
    return envelope("messages", {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [item]})


def preference(wa_id: str, value: str, at: datetime) -> dict:
    return envelope("user_preferences", {
        "contacts": [{"wa_id": wa_id, "profile": {"name": "Ana"}}],
        "user_preferences": [{"wa_id": wa_id, "detail": f"User requested to {value} marketing messages",
                              "category": "marketing_messages", "value": value,
                              "timestamp": int(at.timestamp())}]})


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, payload: dict | bytes, secret: str = SECRET, headers: dict | None = None):
    """POST a body to the webhook as Meta does: raw JSON with its X-Hub-Signature-256."""
    body = payload if isinstance(payload, bytes) else body_of(payload)
    return client.post("/webhooks/meta", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature(body, secret), **(headers or {})})

"""The `/_sandbox/…` endpoints: read the ledger and counters, change settings, inject faults, reset,
and make a customer write to the business. They are the sandbox's own, not Meta's, and need no token:
they show no secret, and their writes take JSON only (json_writes_only)."""
from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from webapp.cloudapi import FREE_FORM_MEDIA, MEDIA_KINDS, media_kind
from webapp.sandbox import events
from webapp.sandbox.errors import GraphError
from webapp.sandbox.faults import parse_fault
from webapp.sandbox.media import checked
from webapp.sandbox.profile import customer_name
from webapp.sandbox.state import STATE, SandboxState
from webapp.sandbox.validation import recipient_wa_id

BODY_MAX = 4 * 1024 * 1024
DOCUMENT_MAX = MEDIA_KINDS["application/pdf"].max_bytes
INBOUND_BODY_MAX = DOCUMENT_MAX * 4 // 3 + BODY_MAX  # a customer's largest document, in base64, and the rest


def add_control_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sandbox/health", health)
    router.add_get("/_sandbox/config", get_config)
    router.add_patch("/_sandbox/config", patch_config)
    router.add_get("/_sandbox/messages", list_messages)
    router.add_get("/_sandbox/messages/{wamid}", get_message)
    router.add_get("/_sandbox/inbound", list_inbound)
    router.add_post("/_sandbox/inbound", post_inbound)
    router.add_get("/_sandbox/service-window", get_service_window)
    router.add_get("/_sandbox/media/{media_id}", get_media)
    router.add_post("/_sandbox/service-window", set_service_window)
    router.add_get("/_sandbox/webhooks", list_webhooks)
    router.add_get("/_sandbox/webhooks/pending", list_pending_webhooks)
    router.add_post("/_sandbox/verify-webhook", verify_webhook)
    router.add_get("/_sandbox/stats", stats)
    router.add_post("/_sandbox/reset", reset)
    router.add_post("/_sandbox/quality", post_quality)
    router.add_post("/_sandbox/account-update", post_account_update)
    router.add_post("/_sandbox/template-status", post_template_status)
    router.add_get("/_sandbox/faults", list_faults)
    router.add_post("/_sandbox/faults", add_faults)
    router.add_delete("/_sandbox/faults", clear_faults)


@web.middleware
async def json_writes_only(request: web.Request, handler) -> web.StreamResponse:
    """Any web page a developer visits can POST a form or text/plain to localhost without asking (no CORS
    preflight); application/json it cannot. So a write to /_sandbox must say it is JSON, or it changes nothing."""
    if (request.path.startswith("/_sandbox/") and request.method not in ("GET", "HEAD", "OPTIONS")
            and request.content_type != "application/json"):
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "the sandbox's control endpoints take application/json only"}),
            content_type="application/json")
    return await handler(request)


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def _json_body(request: web.Request, max_bytes: int = BODY_MAX) -> Any:
    body = bytearray()
    while chunk := await request.content.read(256 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_bytes, len(body))
    try:
        return json.loads(bytes(body) or b"{}")
    except ValueError as exc:
        raise _bad_request("the body is not valid JSON") from exc


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"ok": True, "phone_number_id": state.config.phone_number_id,
                              "waba_id": state.config.waba_id})


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].config.shown())


async def patch_config(request: web.Request) -> web.Response:
    changes = await _json_body(request)
    if not isinstance(changes, dict):
        raise _bad_request("send an object of settings to change")
    state = request.app[STATE]
    try:
        state.configure(changes)
    except ValueError as exc:
        raise _bad_request(str(exc)) from exc
    return web.json_response(state.config.shown())


async def list_messages(request: web.Request) -> web.Response:
    query = request.query
    try:
        limit = int(query["limit"]) if query.get("limit") else None
        since = _timestamp(query["since"]) if query.get("since") else None
    except ValueError as exc:
        raise _bad_request(f"bad filter: {exc}") from exc
    records = request.app[STATE].ledger.find_messages(
        to=query.get("to"), since=since, limit=limit, phone_number_id=query.get("phone_number_id"))
    return web.json_response({"data": [r.as_json() for r in records], "count": len(records)})


def _timestamp(value: str) -> float:
    """Epoch seconds, or an ISO 8601 time (with its offset; Z for UTC)."""
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value).timestamp()


async def get_message(request: web.Request) -> web.Response:
    record = request.app[STATE].ledger.by_wamid.get(request.match_info["wamid"])
    if record is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such message"}), content_type="application/json")
    return web.json_response(record.as_json())


async def list_inbound(request: web.Request) -> web.Response:
    inbound = request.app[STATE].ledger.inbound
    return web.json_response({"data": inbound, "count": len(inbound)})


async def post_inbound(request: web.Request) -> web.Response:
    """A customer writes to the business: {"from": "+1…", "text": "Hi"} (optionally "name", "context_id",
    "phone_number_id"); or, instead of text, "button": {"text": …, "payload": …}, or a file: "image" (also
    "video", "audio", "sticker", "document"): {"data_base64": …, "mime_type": …, "caption"?, "filename"?}."""
    spec = await _json_body(request, max_bytes=INBOUND_BODY_MAX)
    state = request.app[STATE]
    phone_number_id, wa_id = _conversation(spec, state, "from")
    button = spec.get("button")
    media = _inbound_media(spec, state, phone_number_id)
    if isinstance(button, dict) and button.get("text"):
        button = (str(button["text"]), str(button.get("payload") or button["text"]))
    elif media is None and not (isinstance(spec.get("text"), str) and spec["text"]):
        raise _bad_request("'text', 'button' or a file ('image', 'document', …) is required")
    name = str(spec.get("name") or customer_name(wa_id, state.config.seed))
    message = state.lifecycle.customer_writes(
        phone_number_id, wa_id, name, text=spec.get("text"), button=button if isinstance(button, tuple) else None,
        media=media, context_id=spec.get("context_id"))
    return web.json_response({"message": message}, status=201)


def _inbound_media(spec: dict, state: SandboxState, phone_number_id: str) -> tuple[str, dict] | None:
    """(type, webhook object) of the file a customer sends, stored for the app to download; None for no file.
    A document may be of any type (customers send what they like); other files must be of their kind."""
    kind = next((k for k in FREE_FORM_MEDIA if isinstance(spec.get(k), dict)), None)
    if kind is None:
        return None
    file = spec[kind]
    try:
        data = base64.b64decode(str(file.get("data_base64", "")), validate=True)
    except binascii.Error as exc:
        raise _bad_request(f"{kind}.data_base64 is not base64") from exc
    mime_type = str(file.get("mime_type") or "application/octet-stream")
    found = media_kind(mime_type)
    if kind == "document" and found is None:
        if not 0 < len(data) <= DOCUMENT_MAX:
            raise _bad_request("document: the file is empty or larger than 100 MB")
    else:
        try:
            mime_type = checked(mime_type, len(data))
        except GraphError as exc:
            raise _bad_request(exc.details) from exc
        if found.type != kind and kind != "document":
            raise _bad_request(f"a {mime_type} file is sent as {found.type}, not {kind}")
    filename = str(file["filename"]) if kind == "document" and file.get("filename") else None
    stored = state.media.add(phone_number_id, data, mime_type, filename)
    caption = str(file["caption"]) if kind in ("image", "video", "document") and file.get("caption") else None
    return kind, events.inbound_media(stored.id, stored.mime_type, stored.sha256, caption=caption,
                                      filename=filename)


def _conversation(spec: Any, state: SandboxState, number_field: str) -> tuple[str, str]:
    """(phone number id, customer's wa_id) named by a request: the customer's number in `number_field`, the
    business number in "phone_number_id" (default: the first)."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get(number_field), str):
        raise _bad_request(f"'{number_field}' (the customer's number) is required")
    phone_number_id = str(spec.get("phone_number_id") or state.config.phone_number_id)
    if phone_number_id not in state.config.numbers():
        raise _bad_request(f"unknown phone_number_id {phone_number_id}")
    try:
        return phone_number_id, recipient_wa_id(spec[number_field], state.country_code)
    except GraphError as exc:
        raise _bad_request(exc.details) from exc


async def get_service_window(request: web.Request) -> web.Response:
    """?number=+1…[&phone_number_id=…]: when the customer last wrote, and whether free-form messages may go."""
    state = request.app[STATE]
    phone_number_id, wa_id = _conversation(request.query, state, "number")
    return web.json_response(state.ledger.service_window(phone_number_id, wa_id))


async def set_service_window(request: web.Request) -> web.Response:
    """Move the sandbox's clock for one conversation: {"number": "+1…", "customer_wrote_ago": 86340} (seconds),
    or {"customer_wrote_at": <ISO time or epoch seconds, or null for never>}. No webhook is sent."""
    spec = await _json_body(request)
    state = request.app[STATE]
    phone_number_id, wa_id = _conversation(spec, state, "number")
    try:
        if "customer_wrote_ago" in spec:
            at: float | None = time.time() - float(spec["customer_wrote_ago"])
        elif "customer_wrote_at" in spec:
            at = None if spec["customer_wrote_at"] is None else _timestamp(str(spec["customer_wrote_at"]))
        else:
            raise ValueError("say 'customer_wrote_ago' (seconds) or 'customer_wrote_at' (a time, or null)")
    except (TypeError, ValueError) as exc:
        raise _bad_request(str(exc)) from exc
    state.ledger.customer_wrote(phone_number_id, wa_id, at)
    return web.json_response(state.ledger.service_window(phone_number_id, wa_id))


async def get_media(request: web.Request) -> web.Response:
    """The bytes of an uploaded or customer's file, for the Sandbox phone page (which holds no Graph token)."""
    media = request.app[STATE].media.get(request.match_info["media_id"])
    if media is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such media"}), content_type="application/json")
    return web.Response(body=media.data, content_type=media.mime_type,
                        headers={"X-Media-Filename": quote(media.filename or "")})


async def list_webhooks(request: web.Request) -> web.Response:
    webhooks = request.app[STATE].ledger.webhooks
    try:
        limit = int(request.query.get("limit") or 0)
    except ValueError as exc:
        raise _bad_request("limit must be a number") from exc
    shown = webhooks[-limit:] if limit else webhooks
    return web.json_response({"data": [d.as_json() for d in shown], "count": len(shown)})


async def list_pending_webhooks(request: web.Request) -> web.Response:
    pending = request.app[STATE].webhooks.pending()
    return web.json_response({"data": pending, "count": len(pending)})


async def verify_webhook(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not state.config.webhook_url:
        raise _bad_request("no webhook_url is configured")
    return web.json_response(await state.webhooks.verify_subscription())


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({**state.ledger.stats(state.throughput.busiest), "media_uploads": state.media.uploads})


async def reset(request: web.Request) -> web.Response:
    await request.app[STATE].reset()
    return web.json_response({"reset": True})


async def post_quality(request: web.Request) -> web.Response:
    """Meta rates a number again: {"event": "DOWNGRADE", "current_limit": "TIER_250"} (also "FLAGGED",
    "UNFLAGGED", "UPGRADE"…; optionally "quality_rating" and "phone_number_id"). The number's GET shows the new
    rating and tier, and a signed phone_number_quality_update webhook goes to the app; answers that payload."""
    spec = await _json_body(request)
    state = request.app[STATE]
    phone_number_id = _number(spec, state)
    event, tier, rating = spec.get("event"), spec.get("current_limit"), spec.get("quality_rating")
    if event not in events.QUALITY_EVENTS:
        raise _bad_request(f"'event' must be one of {', '.join(events.QUALITY_EVENTS)}")
    if tier is not None and tier not in events.TIERS:
        raise _bad_request(f"'current_limit' must be one of {', '.join(events.TIERS)}")
    if rating is not None and rating not in ("GREEN", "YELLOW", "RED"):
        raise _bad_request("'quality_rating' must be GREEN, YELLOW or RED")
    return web.json_response(state.change_quality(phone_number_id, event, tier, rating), status=201)


async def post_account_update(request: web.Request) -> web.Response:
    """Meta restricts the account: {"event": "ACCOUNT_RESTRICTION", "restriction_type":
    "RESTRICTED_BIZ_INITIATED_MESSAGING"} (or ACCOUNT_VIOLATION, DISABLED_UPDATE); sends the signed account_update
    webhook and answers its payload."""
    spec = await _json_body(request)
    state = request.app[STATE]
    phone_number_id = _number(spec, state)
    event = spec.get("event")
    if event not in events.ACCOUNT_EVENTS:
        raise _bad_request(f"'event' must be one of {', '.join(events.ACCOUNT_EVENTS)}")
    kind = str(spec.get("restriction_type") or "RESTRICTED_BIZ_INITIATED_MESSAGING")
    value = events.account_update(state.config.numbers()[phone_number_id], event, kind)
    return web.json_response(state.webhooks.post_account("account_update", value), status=201)


async def post_template_status(request: web.Request) -> web.Response:
    """Meta reviews a template again: {"name": "order_shipped", "language": "en_US", "event": "PAUSED"} (or
    APPROVED, REJECTED, DISABLED, REINSTATED, FLAGGED; optionally "reason"). Its sends fail as Meta's would (132015
    paused, 132016 disabled), the Graph API lists its new status, and a signed message_template_status_update
    webhook goes to the app; answers that payload."""
    spec = await _json_body(request)
    state = request.app[STATE]
    if not isinstance(spec, Mapping):
        raise _bad_request("send an object")
    template = state.templates.find(str(spec.get("name") or ""), str(spec.get("language") or ""))
    if template is None:
        raise _bad_request("no template has that 'name' and 'language'")
    event = spec.get("event")
    if event not in events.TEMPLATE_EVENTS:
        raise _bad_request(f"'event' must be one of {', '.join(events.TEMPLATE_EVENTS)}")
    reason = str(spec.get("reason") or ("NONE" if event in ("APPROVED", "REINSTATED") else "LOW_QUALITY"))
    return web.json_response(state.change_template(template, event, reason), status=201)


def _number(spec: Any, state: SandboxState) -> str:
    if not isinstance(spec, Mapping):
        raise _bad_request("send an object")
    phone_number_id = str(spec.get("phone_number_id") or state.config.phone_number_id)
    if phone_number_id not in state.config.numbers():
        raise _bad_request(f"unknown phone_number_id {phone_number_id}")
    return phone_number_id


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"data": [f.as_json() for f in request.app[STATE].faults.faults]})


async def add_faults(request: web.Request) -> web.Response:
    """One fault spec, or a list of them to be served one after the other."""
    spec = await _json_body(request)
    try:
        faults = [parse_fault(s) for s in (spec if isinstance(spec, list) else [spec])]
    except (ValueError, TypeError) as exc:
        raise _bad_request(str(exc)) from exc
    injector = request.app[STATE].faults
    for fault in faults:
        injector.add(fault)
    return web.json_response({"data": [f.as_json() for f in injector.faults]}, status=201)


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].faults.clear()
    return web.json_response({"data": []})

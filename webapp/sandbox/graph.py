"""The Graph API endpoints the sandbox serves: send messages, list templates, read phone numbers, and upload,
read, download and delete media.

One middleware gives every Graph request what Meta's front gives it: injected faults first, then the
bearer-token check, error envelopes for refused requests, and the configured latency.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import time
from collections.abc import Iterable

import phonenumbers
from aiohttp import web

from webapp.cloudapi import MEDIA_KINDS, media_kind
from webapp.sandbox.errors import GraphError, TokenError, UnknownObjectError
from webapp.sandbox.faults import Fault
from webapp.sandbox.media import DOWNLOAD_PATH, StoredMedia, checked
from webapp.sandbox.state import STATE, SandboxState
from webapp.sandbox.validation import parse_message

VERSION = r"{version:v\d+\.\d+}"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
LARGEST_MEDIA = max(kind.max_bytes for kind in MEDIA_KINDS.values())


def add_graph_routes(app: web.Application) -> None:
    app.router.add_post(f"/{VERSION}/{{object_id:\\d+}}/messages", send_message, name="messages")
    app.router.add_get(f"/{VERSION}/{{object_id:\\d+}}/message_templates", list_templates, name="templates")
    app.router.add_get(f"/{VERSION}/{{object_id:\\d+}}/phone_numbers", list_phone_numbers, name="phone_numbers")
    app.router.add_post(f"/{VERSION}/{{object_id:\\d+}}/media", upload_media, name="media")
    app.router.add_get(f"/{VERSION}/{{object_id:\\d+}}", get_object, name="object")
    app.router.add_delete(f"/{VERSION}/{{object_id:\\d+}}", delete_object, name="delete_object")
    app.router.add_get(DOWNLOAD_PATH, download_media, name="media_download")


@web.middleware
async def graph_front(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith("/_sandbox"):
        return await handler(request)
    state = request.app[STATE]
    request["arrival"] = time.monotonic()  # limits are measured when the request arrives
    state.ledger.enter()
    try:
        fault = state.faults.take(_endpoint(request, state))
        if fault is not None and not fault.accept:
            return await _serve_fault(request, state, fault)
        try:
            _check_token(request, state.config.access_token)
            response = await handler(request)
        except GraphError as error:
            state.ledger.count_error(error.code)
            response = error.response()
        if fault is not None:  # processed, but the caller gets the fault instead of the answer
            return await _serve_fault(request, state, fault)
        await asyncio.sleep(state.latency())
        return response
    finally:
        state.ledger.leave()


def _endpoint(request: web.Request, state: SandboxState) -> str:
    """What a fault names the request by: its route, except that reading or deleting a media id is "media"."""
    route = request.match_info.route.name or ""
    if route in ("object", "delete_object") and request.match_info["object_id"] in state.media.files:
        return "media"
    return route


def _check_token(request: web.Request, access_token: str) -> None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("access_token", "")
    if not token or not hmac.compare_digest(token.encode(), access_token.encode()):
        raise TokenError()


async def _serve_fault(request: web.Request, state: SandboxState, fault: Fault) -> web.StreamResponse:
    if fault.kind == "disconnect":
        # Drop the connection without a word, as a crashed front end or a network cut would; raising
        # CancelledError makes aiohttp abandon the request quietly instead of writing to a dead socket.
        request.transport.abort()
        raise asyncio.CancelledError
    if fault.kind == "timeout":
        await asyncio.sleep(fault.seconds)
        error = GraphError(131016, "The request timed out.", http_status=504)
    else:
        await asyncio.sleep(state.latency())
        error = TokenError() if fault.code == 190 else GraphError(fault.code, http_status=fault.status)
    state.ledger.count_error(error.code)
    return error.response()


# --- POST /{version}/{phone-number-id}/messages ---

async def send_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    phone_number_id = request.match_info["object_id"]
    display = state.config.numbers().get(phone_number_id)
    if display is None:
        raise UnknownObjectError(phone_number_id, "post")
    if not state.throughput.admit(phone_number_id, state.config.rate, request["arrival"]):
        raise GraphError(130429)
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphError(100, "The request body is not valid JSON.") from exc
    message = parse_message(body, state.templates, display, state.country_code)
    record = state.accept(phone_number_id, message, request["arrival"])
    return web.json_response({
        "messaging_product": "whatsapp",
        "contacts": [{"input": message.to, "wa_id": message.wa_id}],
        "messages": [{"id": record.wamid, "message_status": "accepted"}],
    })


# --- Media: POST /{version}/{phone-number-id}/media, GET and DELETE /{version}/{media-id}, the download URL ---

async def upload_media(request: web.Request) -> web.Response:
    """A multipart upload of `messaging_product=whatsapp`, `file` (its part's Content-Type is its type, as Meta
    reads it) and `type`; answers the media id."""
    state = request.app[STATE]
    phone_number_id = request.match_info["object_id"]
    if phone_number_id not in state.config.numbers():
        raise UnknownObjectError(phone_number_id, "post")
    if not request.content_type.startswith("multipart/"):
        raise GraphError(100, "Upload the file as multipart/form-data with messaging_product, file and type.")
    fields: dict[str, str] = {}
    upload: tuple[str, str | None, bytes, int] | None = None  # (mime type, filename, bytes, size)
    async for part in await request.multipart():
        if part.name == "file":
            mime_type = part.headers.get("Content-Type") or ""
            kind = media_kind(mime_type)
            # Without a Content-Type the `type` field decides, which may come later: keep up to the largest cap.
            limit = kind.max_bytes if kind else 0 if mime_type else LARGEST_MEDIA
            data, size = await _read_at_most(part, limit)
            upload = (mime_type, part.filename, data, size)
        else:
            fields[str(part.name)] = (await part.read(decode=True))[:1000].decode(errors="replace")
    if fields.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required.")
    if upload is None:
        raise GraphError(100, "The parameter file is required.")
    mime_type, filename, data, size = upload
    media = state.media.add(phone_number_id, data, checked(mime_type or fields.get("type", ""), size), filename)
    state.media.uploads += 1
    return web.json_response({"id": media.id})


async def _read_at_most(part, limit: int) -> tuple[bytes, int]:
    """The part's bytes if they are at most `limit`, else b"" — and its size either way (read to its end, so
    the answer reaches a client still sending)."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(256 * 1024):
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    return (b"".join(chunks) if size <= limit else b""), size


def _media_info(request: web.Request, state: SandboxState, media: StoredMedia) -> web.Response:
    origin = f"{request.scheme}://{request.host}"
    return web.json_response(media.info(state.media.url(origin, media.id)))


async def delete_object(request: web.Request) -> web.Response:
    state = request.app[STATE]
    object_id = request.match_info["object_id"]
    if state.media.get(object_id, request.query.get("phone_number_id")) is None:
        raise UnknownObjectError(object_id, "delete")
    state.media.delete(object_id)
    return web.json_response({"success": True})


async def download_media(request: web.Request) -> web.Response:
    """The bytes behind a media URL, with the same bearer token as the Graph API (checked by graph_front)."""
    query = request.query
    media = request.app[STATE].media.download(query.get("mid", ""), query.get("ext", ""), query.get("hash", ""))
    if media is None:
        raise web.HTTPNotFound(text="This media URL is unknown or has expired; ask GET /{media-id} for a new one.")
    return web.Response(body=media.data, content_type=media.mime_type)


# --- GET /{version}/{waba-id}/message_templates ---

async def list_templates(request: web.Request) -> web.Response:
    state = request.app[STATE]
    _require_waba(state, request)
    query = request.query
    templates = state.templates.select(status=query.get("status"), category=query.get("category"),
                                       language=query.get("language"), name=query.get("name"))
    fields = _fields(query)
    return web.json_response(_page(request, templates, lambda t: t["id"], lambda t: _project(t, fields)))


def _page(request: web.Request, items: list[dict], key, show) -> dict:
    """One page of `items` with Graph's cursor paging: cursors, and next/previous URLs when there are more."""
    query = request.query
    try:
        limit = min(max(int(query.get("limit", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError as exc:
        raise GraphError(100, "Param limit must be a number.") from exc
    keys = [key(item) for item in items]
    if "after" in query:
        start = _cursor_position(keys, query["after"]) + 1
    elif "before" in query:
        start = max(_cursor_position(keys, query["before"]) - limit, 0)
    else:
        start = 0
    page = items[start:start + limit]
    answer: dict = {"data": [show(item) for item in page]}
    if page:
        paging: dict = {"cursors": {"before": _cursor(key(page[0])), "after": _cursor(key(page[-1]))}}
        base = {k: v for k, v in query.items() if k not in ("after", "before")}
        if start + limit < len(items):
            paging["next"] = str(request.url.with_query({**base, "after": _cursor(key(page[-1]))}))
        if start > 0:
            paging["previous"] = str(request.url.with_query({**base, "before": _cursor(key(page[0]))}))
        answer["paging"] = paging
    return answer


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _cursor_position(keys: list[str], cursor: str) -> int:
    try:
        return keys.index(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise GraphError(100, "Invalid cursor.") from exc


def _fields(query) -> list[str] | None:
    return [f.strip() for f in query["fields"].split(",") if f.strip()] if query.get("fields") else None


def _project(item: dict, fields: Iterable[str] | None) -> dict:
    """Only the requested fields, and always the id, as Graph answers."""
    if fields is None:
        return item
    unknown = [f for f in fields if f not in item]
    if unknown:
        raise GraphError(100, f"Tried accessing nonexisting field ({unknown[0]})")
    return {f: item[f] for f in [*fields, "id"] if f in item}


# --- GET /{version}/{phone-number-id} and /{waba-id}/phone_numbers ---

async def get_object(request: web.Request) -> web.Response:
    state = request.app[STATE]
    object_id = request.match_info["object_id"]
    if object_id in state.media.files:
        media = state.media.get(object_id, request.query.get("phone_number_id"))
        if media is None:
            raise UnknownObjectError(object_id, "get")
        return _media_info(request, state, media)
    if object_id in state.config.numbers():
        return web.json_response(_project(_phone_number(state, object_id), _fields(request.query)))
    if object_id == state.config.waba_id:
        return web.json_response(_project(_business_account(state), _fields(request.query)))
    raise UnknownObjectError(object_id, "get")


async def list_phone_numbers(request: web.Request) -> web.Response:
    state = request.app[STATE]
    _require_waba(state, request)
    numbers = [_phone_number(state, number_id) for number_id in state.config.numbers()]
    fields = _fields(request.query)
    return web.json_response(_page(request, numbers, lambda n: n["id"], lambda n: _project(n, fields)))


def _require_waba(state: SandboxState, request: web.Request) -> None:
    if request.match_info["object_id"] != state.config.waba_id:
        raise UnknownObjectError(request.match_info["object_id"], "get")


def _phone_number(state: SandboxState, phone_number_id: str) -> dict:
    config = state.config
    display = config.numbers()[phone_number_id]
    rating, tier = state.number_quality(phone_number_id)
    return {
        "verified_name": config.verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": _formatted(display),
        "quality_rating": rating,
        "platform_type": "CLOUD_API",
        # Meta's levels: STANDARD is 80 messages/s, HIGH 1,000.
        "throughput": {"level": "STANDARD" if config.rate <= 80 else "HIGH"},
        "whatsapp_business_manager_messaging_limit": tier,
        "name_status": "APPROVED",
        "id": phone_number_id,
    }


def _business_account(state: SandboxState) -> dict:
    return {"id": state.config.waba_id, "name": state.config.verified_name, "currency": "USD",
            "timezone_id": "1", "message_template_namespace": "sandbox_namespace"}


def _formatted(display: str) -> str:
    """"+1 555-000-1234", as the phone number endpoint shows it (webhooks show bare digits)."""
    try:
        number = phonenumbers.parse(f"+{display}")
    except phonenumbers.NumberParseException:
        return f"+{display}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

"""The WhatsApp Cloud API client: the one module that knows Graph URLs, payload shapes and error codes.

The rest of Broadcaster speaks in plain values (a phone number, a template name and language, a
*parameter snapshot*); this module turns them into Graph JSON, sends it with `requests`, and turns
Meta's answers back into plain values or a :class:`CloudAPIError` that says what to do next.
It is synchronous and safe to share between threads (see :class:`CloudAPI`).

The parameter snapshot
----------------------
What the campaign code stores per recipient, a JSON-able dict with up to three keys::

    {
      "header":  {"type": "text", "text": "summer"}                      # text header variable,
                 | {"type": "text", "text": "summer", "parameter_name": "season"}   # ... in a NAMED template
                 | {"type": "image" | "video" | "document", "link": "https://…"}     # media header
                 | {"type": "image" | "video" | "document", "id": "<media id>"}      # (document may add "filename")
                 | absent,
      "body":    ["Camila", "20%"]                    # positional: {{1}}, {{2}} in that order
                 | {"first_name": "Camila", ...}      # named: sent with "parameter_name"
                 | absent,
      "buttons": [{"index": 0, "sub_type": "url", "text": "NOV20"},              # dynamic URL suffix
                  {"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}]
                 | absent,
    }

`template_components(params)` turns it into the Graph `template.components` array;
`template_variables(components, parameter_format)` says which of those keys a template needs;
`render_template(components, params)` shows the message as the customer reads it.

Free-form messages and media
----------------------------
Inside a customer's 24-hour window the inbox answers with `send_text` and `send_media` (by an uploaded
media id or a link); outside it Meta accepts them, then fails them with 131047. `media_kind(mime_type)`
says whether WhatsApp takes a file and its size cap, to tell the user before `upload_media`. A customer's
file arrives as a media id: `media_info` gives its short-lived URL, `download_media` fetches it with the
token, streamed and capped.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.certs import where

from webapp.meta_errors import Action, MetaError, classify, int_or_none, read_error_item, without_code_prefix

DEFAULT_TIMEOUT = (3.05, 20)  # (connect, read) seconds
POOL_SIZE = 128  # connections kept to the Graph host, shared by every thread of the process
TEMPLATE_FIELDS = ("name", "language", "status", "category", "parameter_format", "components", "id")
PHONE_NUMBER_FIELDS = ("display_phone_number", "verified_name", "quality_rating", "throughput")
MEDIA_TYPES = ("image", "video", "document")  # what a template header may carry
MB = 1024 * 1024


# --- Media: the files WhatsApp takes, by MIME type ---------------------------------------------------

@dataclass(frozen=True)
class MediaKind:
    """What WhatsApp does with a file of one MIME type: the message type that carries it and its size cap."""

    type: str       # image | video | audio | document | sticker
    max_bytes: int


# Meta's supported media, in the order its upload error lists them. A sticker may be 500 KB when animated,
# 100 KB when static; only its content tells, so the larger cap is the one checked before an upload.
MEDIA_KINDS: dict[str, MediaKind] = {
    **dict.fromkeys(("audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg", "audio/opus"),
                    MediaKind("audio", 16 * MB)),
    **dict.fromkeys((
        "application/vnd.ms-powerpoint", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/pdf", "text/plain", "application/vnd.ms-excel"), MediaKind("document", 100 * MB)),
    "image/jpeg": MediaKind("image", 5 * MB),
    "image/png": MediaKind("image", 5 * MB),
    "image/webp": MediaKind("sticker", 500 * 1024),
    "video/mp4": MediaKind("video", 16 * MB),
    "video/3gpp": MediaKind("video", 16 * MB),
}
FREE_FORM_MEDIA = ("image", "video", "audio", "document", "sticker")  # the media message types


def media_kind(mime_type: str) -> MediaKind | None:
    """What WhatsApp makes of a file of this MIME type (parameters such as `; codecs=opus` aside), or None
    when it refuses the type."""
    return MEDIA_KINDS.get(mime_type.split(";", 1)[0].strip().lower())


# --- An error, and what to do about it (the table lives in webapp/meta_errors.py) ------------------

class CloudAPIError(Exception):
    """A send or query the Cloud API refused, or that never got an answer.

    `code`, `title`, `message`, `details`, `http_status` and `fbtrace_id` are Meta's (None when there
    was no answer); `action` says what to do. `delivery_unknown` is True when the request may have
    reached Meta although no answer came back (a read timeout, a connection dropped mid-request): the
    message may have been accepted, so re-sending it blindly could deliver it twice. `unanswered` is True
    when Meta gave no answer at all (a timeout, a connection refused or broken).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        title: str | None = None,
        details: str | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        error_type: str | None = None,
        subcode: int | None = None,
        action: Action | None = None,
        delivery_unknown: bool = False,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.title = title or without_code_prefix(message)
        self.details = details
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.error_type = error_type
        self.subcode = subcode
        self.action = action or classify(code, http_status)
        self.delivery_unknown = delivery_unknown
        self.unanswered = unanswered

    @property
    def meta_failing(self) -> bool:
        """Meta itself failed: no answer, or a 5xx one (what the sender's breaker counts)."""
        return self.unanswered or (self.http_status or 0) >= 500

    def __str__(self) -> str:
        code = f"#{self.code} " if self.code is not None else ""
        details = f": {self.details}" if self.details and self.details != self.title else ""
        return f"{code}{self.title}{details}"

    @classmethod
    def from_envelope(cls, payload: Any, http_status: int, body_text: str = "") -> CloudAPIError:
        """From a Graph error answer; a body that is not a Graph envelope is reported as it came."""
        error = payload.get("error") if isinstance(payload, Mapping) else None
        if not isinstance(error, Mapping):
            snippet = " ".join(body_text.split())[:200]
            return cls(f"HTTP {http_status} from the Cloud API: {snippet or 'empty body'}", http_status=http_status)
        parsed = read_error_item(error)
        return cls(
            str(error.get("message") or f"HTTP {http_status}"),
            code=parsed.code,
            details=parsed.detail or None,
            http_status=http_status,
            fbtrace_id=error.get("fbtrace_id"),
            error_type=error.get("type"),
            subcode=int_or_none(error.get("error_subcode")),
        )

    @property
    def meta_error(self) -> MetaError:
        """The error as a recipient row keeps it."""
        return MetaError(self.code, self.title or self.message, self.details or "")


# --- Templates: what they need, how they read, how their parameters are sent ----------------------

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True)
class TemplateVariables:
    """What a template needs filled in before it can be sent.

    `header` is None (nothing to fill), "text" (a variable in a TEXT header, named `header_variable`)
    or the media type a media header needs ("image", "video", "document", "location"). `body` lists
    the body variables: "1", "2", … in order for POSITIONAL templates, names in order of first use
    for NAMED ones. `url_buttons` are the indexes of URL buttons whose address ends in a dynamic
    `{{1}}` suffix; `quick_replies` are (index, label) of quick-reply buttons, whose payload is optional.
    """

    named: bool = False
    header: str | None = None
    header_variable: str | None = None
    body: tuple[str, ...] = ()
    url_buttons: tuple[int, ...] = ()
    quick_replies: tuple[tuple[int, str], ...] = ()


def template_variables(components: Sequence[Mapping[str, Any]], parameter_format: str | None = None) -> TemplateVariables:
    """Read a template's Graph `components` and say which header, body and button values it needs."""
    named = (parameter_format or "POSITIONAL").upper() == "NAMED"
    header = header_variable = None
    body: tuple[str, ...] = ()
    url_buttons: list[int] = []
    quick_replies: list[tuple[int, str]] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            if header_format != "TEXT":
                header = header_format.lower()
            elif names := _variables_in(component.get("text", ""), named):
                header, header_variable = "text", names[0]
        elif kind == "BODY":
            body = _variables_in(component.get("text", ""), named)
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons", [])):
                button_type = str(button.get("type", "")).upper()
                if button_type == "URL" and _VARIABLE.search(button.get("url", "")):
                    url_buttons.append(index)
                elif button_type == "QUICK_REPLY":
                    quick_replies.append((index, button.get("text", "")))
    return TemplateVariables(named, header, header_variable, body, tuple(url_buttons), tuple(quick_replies))


def _variables_in(text: str, named: bool) -> tuple[str, ...]:
    found = dict.fromkeys(_VARIABLE.findall(text))  # a variable may appear twice; keep first-use order
    if named:
        return tuple(found)
    return tuple(sorted(found, key=lambda name: int(name) if name.isdigit() else 0))


@dataclass(frozen=True)
class RenderedButton:
    label: str
    kind: str  # "quick_reply", "url", "phone_number", ...
    url: str | None = None


@dataclass(frozen=True)
class RenderedTemplate:
    """A template message as the customer sees it, in parts for a page to lay out."""

    header: str | None = None        # the header's text, variables filled in
    header_media: dict | None = None  # {"type": "image", "link": …} for a media header
    body: str = ""
    footer: str | None = None
    buttons: tuple[RenderedButton, ...] = ()

    @property
    def text(self) -> str:
        """Plain text, one part per paragraph, buttons as `[label]` lines."""
        parts = []
        if self.header_media:
            source = self.header_media.get("link") or self.header_media.get("id") or ""
            parts.append(f"[{self.header_media.get('type', 'media')}: {source}]".replace(": ]", "]"))
        if self.header:
            parts.append(self.header)
        parts.append(self.body)
        if self.footer:
            parts.append(self.footer)
        if self.buttons:
            parts.append("\n".join(f"[{b.label}]" + (f" {b.url}" if b.url else "") for b in self.buttons))
        return "\n\n".join(part for part in parts if part)


def render_template_parts(components: Sequence[Mapping[str, Any]], params: Mapping[str, Any] | None) -> RenderedTemplate:
    """Fill a template's variables with a parameter snapshot; unfilled variables stay as `{{…}}`."""
    params = params or {}
    header_param = params.get("header") or {}
    body_values = params.get("body") or []
    button_params = {int(b.get("index", -1)): b for b in params.get("buttons") or []}
    header = footer = header_media = None
    body = ""
    buttons: list[RenderedButton] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            if header_format == "TEXT":
                header = _fill(component.get("text", ""), lambda _name: header_param.get("text"))
            elif header_param.get("type") == header_format.lower():
                header_media = dict(header_param)
            else:
                header_media = {"type": header_format.lower()}
        elif kind == "BODY":
            body = _fill(component.get("text", ""), lambda name: _body_value(body_values, name))
        elif kind == "FOOTER":
            footer = component.get("text")
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons", [])):
                url = button.get("url")
                if url:
                    url = _fill(url, lambda _name, i=index: button_params.get(i, {}).get("text"))
                buttons.append(RenderedButton(button.get("text", ""), str(button.get("type", "")).lower(), url))
    return RenderedTemplate(header, header_media, body, footer, tuple(buttons))


def render_template(components: Sequence[Mapping[str, Any]], params: Mapping[str, Any] | None) -> str:
    """The text a customer reads: header, body with values filled in, footer, button labels."""
    return render_template_parts(components, params).text


def _fill(text: str, value_for) -> str:
    def substitute(match: re.Match) -> str:
        value = value_for(match.group(1))
        return match.group(0) if value is None else str(value)

    return _VARIABLE.sub(substitute, text)


def _body_value(values: Sequence[Any] | Mapping[str, Any], name: str) -> Any:
    if isinstance(values, Mapping):
        return values.get(name)
    if name.isdigit() and 1 <= int(name) <= len(values):
        return values[int(name) - 1]
    return None


def template_components(params: Mapping[str, Any] | None) -> list[dict]:
    """The Graph `template.components` array for a parameter snapshot (see the module docstring)."""
    params = params or {}
    components: list[dict] = []
    if header := params.get("header"):
        components.append({"type": "header", "parameters": [_header_parameter(header)]})
    body = params.get("body")
    if body:
        if isinstance(body, Mapping):
            parameters = [{"type": "text", "parameter_name": name, "text": str(value)} for name, value in body.items()]
        else:
            parameters = [{"type": "text", "text": str(value)} for value in body]
        components.append({"type": "body", "parameters": parameters})
    for button in sorted(params.get("buttons") or [], key=lambda b: int(b["index"])):
        components.append(_button_component(button))
    return components


def _header_parameter(header: Mapping[str, Any]) -> dict:
    kind = header.get("type")
    if kind == "text":
        parameter = {"type": "text", "text": str(header["text"])}
        if header.get("parameter_name"):
            parameter["parameter_name"] = header["parameter_name"]
        return parameter
    if kind in MEDIA_TYPES:
        media = {"id": header["id"]} if header.get("id") else {"link": header["link"]}
        if kind == "document" and header.get("filename"):
            media["filename"] = header["filename"]
        return {"type": kind, kind: media}
    raise ValueError(f"unsupported header parameter type {kind!r}")


def _button_component(button: Mapping[str, Any]) -> dict:
    sub_type = button.get("sub_type")
    if sub_type == "url":
        parameter = {"type": "text", "text": str(button["text"])}
    elif sub_type == "quick_reply":
        parameter = {"type": "payload", "payload": str(button["payload"])}
    else:
        raise ValueError(f"unsupported button sub_type {sub_type!r}")
    # Meta's Cloud API examples send the index as a string.
    return {"type": "button", "sub_type": sub_type, "index": str(int(button["index"])), "parameters": [parameter]}


def template_message(
    to: str, name: str, language: str, params: Mapping[str, Any] | None, callback_data: str | None = None
) -> dict:
    """The request body that sends template `name` in `language` to `to` (E.164, with its `+`)."""
    message: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                               "type": "template"}
    if callback_data is not None:
        message["biz_opaque_callback_data"] = callback_data
    message["template"] = {"name": name, "language": {"code": language}}
    if components := template_components(params):
        message["template"]["components"] = components
    return message


def text_message(to: str, body: str, preview_url: bool = False, callback_data: str | None = None) -> dict:
    """The request body of a free-form text message (only inside the 24 h customer service window)."""
    return _free_form(to, "text", {"preview_url": preview_url, "body": body}, callback_data)


def media_message(to: str, kind: str, *, media_id: str | None = None, link: str | None = None,
                  caption: str | None = None, filename: str | None = None, callback_data: str | None = None) -> dict:
    """The request body of a free-form media message: `kind` is image, video, audio, document or sticker, the
    file an uploaded media id or a public https link; images, videos and documents may have a caption, documents
    a filename (audio and stickers take neither)."""
    if kind not in FREE_FORM_MEDIA:
        raise ValueError(f"unsupported media message type {kind!r}")
    if (media_id is None) == (link is None):
        raise ValueError("a media message takes a media id or a link, not both")
    media: dict[str, Any] = {"id": media_id} if media_id is not None else {"link": link}
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    return _free_form(to, kind, media, callback_data)


def _free_form(to: str, kind: str, content: dict, callback_data: str | None) -> dict:
    message: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                               "type": kind}
    if callback_data is not None:
        message["biz_opaque_callback_data"] = callback_data
    message[kind] = content
    return message


# --- The client ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MediaInfo:
    """`GET /{media-id}`: where to download the file (the URL lives about five minutes) and what it is."""

    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int


class MediaTooLarge(CloudAPIError):
    """A media download that went past the caller's size cap; it was stopped there, and retrying will not help."""


@dataclass(frozen=True)
class SendResult:
    """Meta's answer to an accepted send: accepted is not delivered; webhooks tell the rest."""

    wamid: str
    wa_id: str
    message_status: str = "accepted"


class CloudAPI:
    """A client for one Graph host and version, with one access token.

    Safe to share between threads: each thread gets its own `requests.Session` (sessions are not
    documented as thread-safe), and all of them share one HTTPAdapter whose urllib3 pool (which is
    thread-safe) keeps up to POOL_SIZE keep-alive connections, enough for ~128 requests in flight.
    Sends (the hot path: up to 1,000 a second) skip `requests` and go straight to a urllib3 pool of their own,
    with the proxy and CA bundle `requests` would pick read once (see `_sends_pool`).
    The client never retries by itself: the sender decides from the error's `action`.
    """

    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version if version.startswith("v") else f"v{version}"
        self.timeout = timeout
        self._access_token = access_token
        # max_retries=0: a POST must never be silently repeated by the transport.
        self._adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self._local = threading.local()
        self._sends = _sends_pool(self.base_url, pool_size)
        self._send_headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json",
                              "Accept": "*/*", "User-Agent": requests.utils.default_user_agent()}
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._send_timeout = urllib3.Timeout(connect=connect, read=read)

    def __repr__(self) -> str:  # never show the token
        return f"CloudAPI({self.base_url!r}, {self.version!r})"

    def close(self) -> None:
        self._adapter.close()
        self._sends.clear()

    def send_template(
        self,
        phone_number_id: str,
        to: str,
        name: str,
        language: str,
        params: Mapping[str, Any] | None,
        callback_data: str | None = None,
    ) -> SendResult:
        """Send template `name` in `language` filled with the parameter snapshot `params`."""
        return self._send(phone_number_id, template_message(to, name, language, params, callback_data))

    def send_text(self, phone_number_id: str, to: str, body: str, preview_url: bool = False,
                  callback_data: str | None = None) -> SendResult:
        """Send a text message; Meta fails it (131047) unless the customer wrote in the last 24 h."""
        return self._send(phone_number_id, text_message(to, body, preview_url, callback_data))

    def send_media(self, phone_number_id: str, to: str, kind: str, *, media_id: str | None = None,
                   link: str | None = None, caption: str | None = None, filename: str | None = None,
                   callback_data: str | None = None) -> SendResult:
        """Send an image, video, audio, document or sticker by uploaded media id or link (see `media_message`);
        like any free-form message, only inside the customer's 24 h window."""
        return self._send(phone_number_id, media_message(to, kind, media_id=media_id, link=link, caption=caption,
                                                         filename=filename, callback_data=callback_data))

    def upload_media(self, phone_number_id: str, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file to send by id; answers its media id. Meta refuses a type it does not take (100) or a file
        over its type's cap: check with `media_kind` first to tell the user before the upload."""
        answer = self._call("POST", self._url(phone_number_id, "media"),
                            data={"messaging_product": "whatsapp", "type": mime_type},
                            files={"file": (filename, data, mime_type)})
        if not isinstance(answer.get("id"), str):
            raise CloudAPIError(f"The Cloud API answered an upload without a media id: {str(answer)[:200]}",
                                action=Action.RETRY)
        return answer["id"]

    def media_info(self, media_id: str) -> MediaInfo:
        """Where to download a media id's file (a customer's, or an upload) and its type, size and SHA-256."""
        answer = self._call("GET", self._url(media_id))
        try:
            return MediaInfo(str(answer["id"]), answer["url"], answer["mime_type"], answer.get("sha256", ""),
                             int(answer["file_size"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CloudAPIError(f"The Cloud API answered a media id without its URL: {str(answer)[:200]}",
                                action=Action.RETRY) from exc

    def download_media(self, url: str, max_bytes: int) -> bytes:
        """The file at a media URL (from `media_info`), fetched with the same token and streamed: a file larger
        than `max_bytes` is not read past the cap (MediaTooLarge). An expired URL (404) or a 5xx is worth
        retrying with a fresh URL."""
        with self._request("GET", url, stream=True) as response:
            if response.status_code >= 400:
                error = CloudAPIError.from_envelope(_json(response), response.status_code, response.text)
                if error.code is None and response.status_code == 404:
                    error.action = Action.RETRY  # the URL expired: a fresh one from media_info will do
                raise error
            if int(response.headers.get("Content-Length") or 0) > max_bytes:
                raise _too_large(max_bytes)
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise _too_large(max_bytes)
            return bytes(data)

    def delete_media(self, media_id: str) -> None:
        """Delete an uploaded file from Meta's media store."""
        self._call("DELETE", self._url(media_id))

    def list_templates(
        self, waba_id: str, *, status: str | None = None, limit: int = 100, fields: Sequence[str] = TEMPLATE_FIELDS
    ) -> Iterator[dict]:
        """Every template of the WhatsApp Business Account, following Graph paging page by page."""
        query: dict[str, Any] = {"fields": ",".join(fields), "limit": limit}
        if status:
            query["status"] = status
        page = self._call("GET", self._url(waba_id, "message_templates"), params=query)
        while True:
            data = page.get("data") or []
            yield from data
            next_url = (page.get("paging") or {}).get("next")
            if not next_url or not data:
                return
            page = self._call("GET", next_url)

    def get_phone_number(self, phone_number_id: str, fields: Sequence[str] = PHONE_NUMBER_FIELDS) -> dict:
        """A sender number's details: display number, verified name, quality, throughput level."""
        return self._call("GET", self._url(phone_number_id), params={"fields": ",".join(fields)})

    # --- plumbing ---

    def _send(self, phone_number_id: str, message: dict) -> SendResult:
        return _sent(self._post_message(self._url(phone_number_id, "messages"), message))

    def _url(self, object_id: str, edge: str | None = None) -> str:
        return f"{self.base_url}/{self.version}/{object_id}" + (f"/{edge}" if edge else "")

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("https://", self._adapter)
            session.mount("http://", self._adapter)
            session.headers["Authorization"] = f"Bearer {self._access_token}"
            self._local.session = session
        return session

    def _call(self, method: str, url: str, **kwargs: Any) -> dict:
        response = self._request(method, url, **kwargs)
        payload = _json(response)
        if response.status_code >= 400 or (isinstance(payload, Mapping) and "error" in payload):
            raise CloudAPIError.from_envelope(payload, response.status_code, response.text)
        if not isinstance(payload, dict):
            raise CloudAPIError(
                f"The Cloud API answered HTTP {response.status_code} with a body that is not JSON",
                http_status=response.status_code, action=Action.RETRY, delivery_unknown=method == "POST",
            )
        return payload

    def _post_message(self, url: str, message: dict) -> dict:
        """`_call("POST", url, json=message)` without `requests`: the same answers and the same errors."""
        body = json.dumps(message, separators=(",", ":")).encode()
        try:
            response = self._sends.request("POST", url, body=body, headers=self._send_headers,
                                           timeout=self._send_timeout, retries=False, redirect=False)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise CloudAPIError(f"The Cloud API did not answer within {self._read_timeout()} s; "
                                "the request may or may not have been accepted",
                                delivery_unknown=True, unanswered=True) from exc
        except urllib3.exceptions.NewConnectionError as exc:  # refused: the request surely never left
            raise CloudAPIError(f"Could not connect to the Cloud API at {self.base_url}", unanswered=True) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise CloudAPIError(f"Timed out connecting to the Cloud API at {self.base_url}", unanswered=True) from exc
        except urllib3.exceptions.HTTPError as exc:  # the connection broke on the way (urllib3's ProtocolError…)
            raise CloudAPIError("The connection to the Cloud API broke before an answer came; "
                                "the request may or may not have been accepted",
                                delivery_unknown=True, unanswered=True) from exc
        return _send_answer(response.status, response.data)

    def sends(self, in_flight: int = POOL_SIZE) -> Sends:
        """Up to `in_flight` template sends at once from one thread, without a thread each (see `Sends`)."""
        return Sends(self, in_flight)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP request with the token; no answer at all becomes a CloudAPIError that says whether the
        request may have reached Meta."""
        try:
            return self._session().request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as exc:
            raise CloudAPIError(f"Timed out connecting to the Cloud API at {self.base_url}", unanswered=True) from exc
        except requests.Timeout as exc:
            raise CloudAPIError(
                f"The Cloud API did not answer within {self._read_timeout()} s; "
                "the request may or may not have been accepted",
                delivery_unknown=True, unanswered=True,
            ) from exc
        except requests.ConnectionError as exc:
            refused = _never_connected(exc)
            raise CloudAPIError(
                f"Could not connect to the Cloud API at {self.base_url}" if refused
                else "The connection to the Cloud API broke before an answer came; "
                     "the request may or may not have been accepted",
                delivery_unknown=not refused, unanswered=True,
            ) from exc

    def _read_timeout(self) -> float:
        return self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout


class Sends:
    """Many template sends in flight at once for a sender that runs in one thread: an asyncio loop in a thread of its
    own and one aiohttp keep-alive pool of up to `in_flight` connections. `submit` hands it coroutines (which await
    `send_template`) and returns a `concurrent.futures.Future` for each, to wait on as on a thread pool's.

    A thread per request in flight (128 of them) cost more CPU in switching and in `requests`/`urllib3`'s pure-Python
    HTTP than the rest of a send; aiohttp parses answers in C and the loop switches between requests without the
    GIL's hand-overs (docs/benchmarks.md, issue #20). Answers and errors are those of `CloudAPI.send_template`.
    Use it as a context manager: leaving it waits for nothing, so let what was submitted finish first.
    """

    def __init__(self, api: CloudAPI, in_flight: int) -> None:
        self.api = api
        self._proxy, bundle = _environment(api.base_url)
        self._ssl = bundle and ssl.create_default_context(**{"capath" if os.path.isdir(bundle) else "cafile": bundle})
        connect, read = api.timeout if isinstance(api.timeout, tuple) else (api.timeout, api.timeout)
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read)
        self._headers = {"Content-Type": "application/json", "User-Agent": requests.utils.default_user_agent()}
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sends", daemon=True)
        self._thread.start()
        self._session = asyncio.run_coroutine_threadsafe(self._open(in_flight), self.loop).result()

    async def _open(self, in_flight: int) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight, ssl=self._ssl),
                                     timeout=self._timeout, headers=self._headers)

    def __enter__(self) -> Sends:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._session.close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    def submit(self, coroutines: Sequence[Coroutine]) -> list[Future]:
        """Start the coroutines on the loop (one wake-up for them all); a future for each, in order."""
        futures = [Future() for _ in coroutines]

        def start() -> None:
            for coroutine, future in zip(coroutines, futures):
                self.loop.create_task(coroutine).add_done_callback(lambda task, future=future: _settle(future, task))

        self.loop.call_soon_threadsafe(start)
        return futures

    async def send_template(self, phone_number_id: str, to: str, name: str, language: str,
                            params: Mapping[str, Any] | None, callback_data: str | None = None, *,
                            api: CloudAPI | None = None) -> SendResult:
        """`CloudAPI.send_template`, awaited on this loop; `api`: another client of the same host (a token changed
        since these sends began), else the one that opened them."""
        body = json.dumps(template_message(to, name, language, params, callback_data), separators=(",", ":"))
        api = api or self.api
        try:
            async with self._session.post(api._url(phone_number_id, "messages"), data=body.encode(),
                                          headers={"Authorization": f"Bearer {api._access_token}"},
                                          proxy=self._proxy, allow_redirects=False) as response:
                data = await response.read()
        except aiohttp.SocketTimeoutError as exc:
            raise CloudAPIError(f"The Cloud API did not answer within {api._read_timeout()} s; "
                                "the request may or may not have been accepted",
                                delivery_unknown=True, unanswered=True) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise CloudAPIError(f"Timed out connecting to the Cloud API at {api.base_url}", unanswered=True) from exc
        except aiohttp.ClientConnectorError as exc:  # refused, or no such host: the request surely never left
            raise CloudAPIError(f"Could not connect to the Cloud API at {api.base_url}", unanswered=True) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # the connection broke on the way
            raise CloudAPIError("The connection to the Cloud API broke before an answer came; "
                                "the request may or may not have been accepted",
                                delivery_unknown=True, unanswered=True) from exc
        return _sent(_send_answer(response.status, data))


def _settle(future: Future, task: asyncio.Task) -> None:
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _send_answer(status: int, data: bytes) -> dict:
    """A send's answer as `CloudAPI._call` reads answers: Meta's JSON, or the CloudAPIError it says."""
    text = data.decode("utf-8", "replace")
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if status >= 400 or (isinstance(payload, Mapping) and "error" in payload):
        raise CloudAPIError.from_envelope(payload, status, text)
    if not isinstance(payload, dict):
        raise CloudAPIError(f"The Cloud API answered HTTP {status} with a body that is not JSON",
                            http_status=status, action=Action.RETRY, delivery_unknown=True)
    return payload


def _sent(answer: dict) -> SendResult:
    """The wamid and wa_id of an accepted send's answer."""
    try:
        sent = answer["messages"][0]
        return SendResult(sent["id"], answer["contacts"][0]["wa_id"], sent.get("message_status", "accepted"))
    except (KeyError, IndexError, TypeError) as exc:
        raise CloudAPIError(
            f"The Cloud API answered a send without a message id: {str(answer)[:200]}",
            action=Action.RETRY, delivery_unknown=True,
        ) from exc


def _environment(base_url: str) -> tuple[str | None, str | bool]:
    """The proxy and CA bundle (False: do not verify) that `requests` would pick for the Graph host from the
    environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…), read once: `requests` reads every environment variable
    twice per request to find them, more CPU than the rest of a send (docs/benchmarks.md, issue #20)."""
    settings = requests.Session().merge_environment_settings(base_url, {}, None, True, None)
    proxies = settings["proxies"]
    proxy = proxies.get(urlsplit(base_url).scheme) or proxies.get("all")
    verify = settings["verify"]
    return proxy, verify if isinstance(verify, str) or verify is False else where()


def _sends_pool(base_url: str, size: int) -> urllib3.PoolManager:
    """The keep-alive pool of `CloudAPI`'s own sends, up to `size` connections per host (the requests in flight),
    with the proxy and CA bundle of `_environment`."""
    proxy, bundle = _environment(base_url)
    options: dict[str, Any] = {"maxsize": size, "retries": False}
    if urlsplit(base_url).scheme == "https":
        options.update(cert_reqs="CERT_REQUIRED" if bundle else "CERT_NONE",
                       **({"ca_cert_dir" if os.path.isdir(bundle) else "ca_certs": bundle} if bundle else {}))
    return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _too_large(max_bytes: int) -> MediaTooLarge:
    return MediaTooLarge(f"The media file is larger than {max_bytes:,} bytes; its download was stopped there",
                         action=Action.ROW_FAIL)


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was refused or never made, so the request surely never left."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError)

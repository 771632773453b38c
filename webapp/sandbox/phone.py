"""What the sandbox's test customers received and wrote, read from the sandbox's ledger over HTTP, and what
they send back (texts, button taps, photos, documents).

Used by the "Sandbox phone" page, so staff see each test message as the customer would read it.
"""
from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit

import requests
from flask import current_app
from markupsafe import Markup

from webapp.cloudapi import FREE_FORM_MEDIA, media_kind
from webapp.sandbox.validation import WEB_ADDRESS, whatsapp_id
from webapp.whatsapp_text import formatted

TIMEOUT = 3
FILE_TIMEOUT = 60  # a customer's file of tens of MB, in base64


class SandboxUnavailable(RuntimeError):
    """The sandbox process does not answer; the message says how to start it."""


@dataclass(frozen=True)
class Bubble:
    outbound: bool
    at: datetime
    text: str
    status: str = ""     # for messages the business sent: accepted, sent, delivered, read, failed
    template: str = ""
    wamid: str = ""
    buttons: tuple[str, ...] = ()  # the labels of its quick-reply buttons, which the customer can tap
    media: dict | None = None      # a file it carries: {"type", "id" or "link", "filename"?}
    links: tuple[tuple[str, str], ...] = ()  # (label, address) of its link buttons and the addresses in its text

    @property
    def formatted(self) -> Markup:
        """The text as WhatsApp shows it: escaped, with *bold*, _italic_, ~strike~ and ```monospace```."""
        return formatted(self.text)


def is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _get(path: str, **params) -> dict:
    url = current_app.config["SANDBOX_URL"].rstrip("/") + path
    try:
        response = requests.get(url, params=params, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SandboxUnavailable(
            f"The sandbox at {current_app.config['SANDBOX_URL']} does not answer. `make run` starts it; "
            "on its own: `flask --app app sandbox run`.") from exc


def recent_numbers(limit: int = 500) -> list[tuple[str, int]]:
    """Numbers that received messages lately, newest first, with how many each received."""
    messages = _get("/_sandbox/messages", limit=limit)["data"]
    seen: dict[str, int] = {}
    for message in reversed(messages):
        seen[message["to"]] = seen.get(message["to"], 0) + 1
    return list(seen.items())


def conversation(number: str) -> list[Bubble]:
    """The messages to and from one test customer, oldest first."""
    wa_id = whatsapp_id(number)  # the customer writes from it
    bubbles = [
        Bubble(True, _parse_time(m["accepted_at"]), m.get("text") or "", m.get("status") or "accepted",
               (m.get("template") or {}).get("name", ""), m["wamid"],
               tuple(button["text"] for button in m.get("quick_replies") or []), m.get("media"), _links(m))
        for m in _get("/_sandbox/messages", to=number)["data"]
    ]
    for entry in _get("/_sandbox/inbound")["data"]:
        if entry.get("wa_id") != wa_id:
            continue
        message = entry["message"]
        kind = message.get("type", "message")
        media = {"type": kind, **message[kind]} if kind in FREE_FORM_MEDIA else None
        text = ((message.get("text") or {}).get("body") or (message.get("button") or {}).get("text")
                or (media or {}).get("caption") or ("" if media else f"[{kind}]"))
        bubbles.append(Bubble(False, datetime.fromtimestamp(int(message["timestamp"]), timezone.utc), text,
                              media=media))
    return sorted(bubbles, key=lambda b: b.at)


def _links(message: dict) -> tuple[tuple[str, str], ...]:
    """What the customer can open: the message's link buttons, then the other web addresses in its text."""
    found = {link["url"]: link["text"] for link in message.get("links") or [] if is_web_url(link.get("url", ""))}
    for url in WEB_ADDRESS.findall(message.get("text") or ""):
        found.setdefault(url.rstrip(".,;:!?)"), "Open link")
    return tuple((label, url) for url, label in found.items())


def media_file(media_id: str) -> tuple[requests.Response, str]:
    """A streamed answer with the bytes of a file the sandbox holds, and its filename ("" when it has none)."""
    url = current_app.config["SANDBOX_URL"].rstrip("/") + f"/_sandbox/media/{quote(media_id, safe='')}"
    try:
        response = requests.get(url, stream=True, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise SandboxUnavailable("The sandbox does not answer; start it with `make run`.") from exc
    if response.status_code != 200:
        response.close()
        raise LookupError("The sandbox holds no such file (a reset forgets them).")
    return response, unquote(response.headers.get("X-Media-Filename", ""))


def customer_sends_file(number: str, filename: str, mime_type: str, data: bytes, caption: str = "") -> str:
    """Make the test customer send a photo (a JPEG or PNG) or any other file as a document, as Meta delivers it:
    the sandbox keeps the file and sends the webhook with its media id. Returns "photo" or "document"."""
    guessed = mime_type if mime_type not in ("", "application/octet-stream") else mimetypes.guess_type(filename)[0]
    mime_type = guessed or "application/octet-stream"
    kind = media_kind(mime_type)
    media_type = "image" if kind is not None and kind.type == "image" else "document"
    file = {"data_base64": base64.b64encode(data).decode(), "mime_type": mime_type}
    if caption:
        file["caption"] = caption
    if media_type == "document":
        file["filename"] = filename
    _customer_sends({"from": number, media_type: file}, timeout=FILE_TIMEOUT)
    return "photo" if media_type == "image" else "document"


def customer_writes(number: str, text: str) -> None:
    """Make the test customer send a text to the business (the sandbox delivers it as a webhook)."""
    _customer_sends({"from": number, "text": text})


def customer_taps(number: str, wamid: str, index: int) -> str:
    """Make the test customer tap a quick-reply button of a message they received; returns its label.
    The sandbox sends Meta's button webhook: the button's label and payload, and the message's wamid."""
    message = _get(f"/_sandbox/messages/{quote(wamid, safe='')}")
    buttons = message.get("quick_replies") or []
    if message.get("to") != number or not 0 <= index < len(buttons):
        raise ValueError("That message has no such button.")
    _customer_sends({"from": number, "button": buttons[index], "context_id": wamid,
                     "phone_number_id": message["phone_number_id"]})
    return buttons[index]["text"]


def _customer_sends(spec: dict, timeout: float = TIMEOUT) -> None:
    url = current_app.config["SANDBOX_URL"].rstrip("/") + "/_sandbox/inbound"
    try:
        response = requests.post(url, json=spec, timeout=timeout)
    except requests.RequestException as exc:
        raise SandboxUnavailable("The sandbox does not answer; start it with `make run`.") from exc
    if response.status_code >= 400:  # the sandbox's own endpoints answer {"error": "<why>"}
        raise ValueError(_reason(response) or "The sandbox refused the message.")


def _reason(response: requests.Response) -> str:
    try:
        return str(response.json().get("error") or "")
    except (ValueError, AttributeError):
        return ""


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

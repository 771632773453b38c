"""What the sandbox's test customers received and wrote, read from the sandbox's ledger over HTTP.

Used by the "Sandbox phone" page, so staff see each test message as the customer would read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

import requests
from flask import current_app

from webapp.sandbox.validation import whatsapp_id

TIMEOUT = 3


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
               tuple(button["text"] for button in m.get("quick_replies") or []))
        for m in _get("/_sandbox/messages", to=number)["data"]
    ]
    for entry in _get("/_sandbox/inbound")["data"]:
        if entry.get("wa_id") != wa_id:
            continue
        message = entry["message"]
        text = ((message.get("text") or {}).get("body") or (message.get("button") or {}).get("text")
                or f"[{message.get('type', 'message')}]")
        bubbles.append(Bubble(False, datetime.fromtimestamp(int(message["timestamp"]), timezone.utc), text))
    return sorted(bubbles, key=lambda b: b.at)


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


def _customer_sends(spec: dict) -> None:
    url = current_app.config["SANDBOX_URL"].rstrip("/") + "/_sandbox/inbound"
    try:
        response = requests.post(url, json=spec, timeout=TIMEOUT)
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

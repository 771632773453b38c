"""Tracked links: which variables of a campaign count clicks, each recipient's code, and the message with them.

A variable mapped with `"track": true` (a body value holding a URL, or the suffix of a URL button whose address in
the template is `<PUBLIC_URL>/r/{{1}}`) becomes a TrackedLink at launch. When a message is sent its value is
swapped for the recipient's code: `<PUBLIC_URL>/r/<code>` in the body, the bare code as a button's suffix.

Codes are derived, not stored: a code is the link id (base62, after one character giving its length), the
recipient id (base62) and 9 characters of an HMAC of both keyed by the app's SECRET_KEY (48 bits). So launch
writes nothing per recipient, and a guessed code or one from another installation fails the signature before any
database lookup; the destination is the link's URL, or the recipient's own value in its parameter snapshot.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, TrackedLink
from webapp.cloudapi import template_variables

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SIGNATURE = 9  # base62 characters of the HMAC: 62**9 > 2**53, of which 48 bits are used
MAX_CODE = 40  # longer is malformed, whatever it holds
REDIRECT_PATH = "/r/"
DIGITS = {char: value for value, char in enumerate(ALPHABET)}
WELL_FORMED = re.compile(f"[0-9A-Za-z]{{{3 + SIGNATURE},{MAX_CODE}}}")


def _b62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = ALPHABET[rest] + digits
        if not number:
            return digits


def _number(digits: str) -> int:
    value = 0
    for char in digits:
        value = value * 62 + DIGITS[char]
    return value


def signing_key(secret: str | None = None) -> bytes:
    """The key of the codes' signatures, from `secret` or the app's SECRET_KEY."""
    return hashlib.sha256(b"tracked links\0" + (secret or current_app.config["SECRET_KEY"]).encode()).digest()


def _signature(key: bytes, link_id: int, recipient_id: int) -> str:
    digest = hmac.digest(key, f"{link_id}:{recipient_id}".encode(), "sha256")
    return _b62(int.from_bytes(digest[:6], "big")).rjust(SIGNATURE, "0")


def code_for(link_id: int, recipient_id: int, key: bytes | None = None) -> str:
    """The code of one recipient's copy of one link: 12 characters for the first ids, 17 for a billion rows."""
    link = _b62(link_id)
    return _b62(len(link)) + link + _b62(recipient_id) + _signature(key or signing_key(), link_id, recipient_id)


def parse(code: str, key: bytes | None = None) -> tuple[int, int] | None:
    """(link id, recipient id) of a well-formed code whose signature holds, else None."""
    if not WELL_FORMED.fullmatch(code):
        return None
    size = DIGITS[code[0]]
    ids = code[1:-SIGNATURE]
    if not 1 <= size < len(ids):
        return None
    link_id, recipient_id = _number(ids[:size]), _number(ids[size:])
    if not hmac.compare_digest(_signature(key or signing_key(), link_id, recipient_id), code[-SIGNATURE:]):
        return None
    return link_id, recipient_id


def public_url() -> str:
    """The address customers reach the app at (PUBLIC_URL), without a trailing slash."""
    return current_app.config["PUBLIC_URL"].rstrip("/")


def is_web_url(value: str) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_tracked(spec: Mapping | None) -> bool:
    return bool((spec or {}).get("track"))


def button_url(components: list, index: int) -> str:
    """The address of the template's button at `index`, as the template has it ("https://…/r/{{1}}")."""
    for component in components:
        if str(component.get("type", "")).upper() == "BUTTONS":
            buttons = component.get("buttons") or []
            return str(buttons[index].get("url", "")) if 0 <= index < len(buttons) else ""
    return ""


def trackable(slot_key: str) -> bool:
    """Body values and URL buttons' suffixes can be tracked; a header cannot hold a link."""
    return slot_key.startswith(("body:", "button:"))


def track_problem(components: list, slot_key: str, spec: Mapping) -> str | None:
    """Why a variable marked "Track clicks" cannot be tracked as mapped, or None."""
    if not trackable(slot_key):
        return "Only a body variable or a link button can track clicks."
    if spec.get("source") == "constant" and not is_web_url(str(spec.get("value", "")).strip()):
        return "To track clicks, enter the full address the link opens (https://…)."
    if slot_key.startswith("button:"):
        expected = f"{public_url()}{REDIRECT_PATH}{{{{1}}}}"
        found = button_url(components, int(slot_key.split(":", 1)[1]))
        if found.replace(" ", "") != expected:
            return (f"The template's button opens {found or 'no address'}; to track clicks its URL in WhatsApp "
                    f"Manager must be {expected} (a dynamic URL). Then enter here the address the button should "
                    "open.")
    return None


def value_path(components: list, parameter_format: str, slot_key: str) -> list:
    """Where a slot's value sits in a parameter snapshot (webapp/cloudapi.py)."""
    needs = template_variables(components, parameter_format)
    area, name = slot_key.split(":", 1)
    if area == "button":
        return ["buttons", needs.url_buttons.index(int(name)), "text"]
    return ["body", name if needs.named else needs.body.index(name)]


def create_links(session: Session, campaign: Campaign) -> None:
    """The campaign's tracked links, made once at launch (a handful of rows, whatever the audience's size)."""
    made = set(session.scalars(select(TrackedLink.slot).where(TrackedLink.campaign_id == campaign.id)))
    for slot_key, spec in (campaign.variables or {}).items():
        if not is_tracked(spec) or slot_key in made or not trackable(slot_key):
            continue
        constant = str(spec.get("value", "")).strip() if spec.get("source") == "constant" else ""
        session.add(TrackedLink(campaign_id=campaign.id, slot=slot_key, url=constant,
                                path=value_path(campaign.template_components, campaign.parameter_format, slot_key)))
    session.flush()


@dataclass(frozen=True)
class Link:
    id: int
    path: tuple
    button: bool


def links_of(session: Session, campaign_id: int) -> list[Link]:
    rows = session.execute(select(TrackedLink.id, TrackedLink.path).where(TrackedLink.campaign_id == campaign_id))
    return [Link(row.id, tuple(row.path), row.path[0] == "buttons") for row in rows]


def has_links(session: Session, campaign_id: int) -> bool:
    return session.scalar(select(TrackedLink.id).where(TrackedLink.campaign_id == campaign_id).limit(1)) is not None


def value_at(params: Mapping | None, path) -> str:
    """The value at `path` in a parameter snapshot, or "" when it has none."""
    found = params
    try:
        for step in path:
            found = found[step]
    except (KeyError, IndexError, TypeError):
        return ""
    return found if isinstance(found, str) else ""


def with_codes(params: dict | None, links: list[Link], recipient_id: int, base_url: str, key: bytes) -> dict | None:
    """The parameters to send: each tracked value replaced by the recipient's code (a body value that is not a
    web address is sent as it is)."""
    if not links or not params:
        return params
    sent = copy.deepcopy(params)
    for link in links:
        if not link.button and not is_web_url(value_at(sent, link.path)):
            continue
        *parents, last = link.path
        holder = sent
        try:
            for step in parents:
                holder = holder[step]
            code = code_for(link.id, recipient_id, key)
            holder[last] = code if link.button else f"{base_url}{REDIRECT_PATH}{code}"
        except (KeyError, IndexError, TypeError):
            continue
    return sent


"""Reads a `POST /messages` body and checks it the way Meta does, raising the matching Graph error.

Shape errors (a missing field, a wrong type) get 100 "Invalid parameter"; a template that does not
exist or is not approved in that language 132001, paused 132015, disabled 132016; parameters that
do not match the template 132000 (count) or 132012 (format), for the header, body and buttons alike
(a quick reply's payload missing 131008, too long 131009); hydrated text too long 132005; a
malformed number 100 (not a number) or 131009 (impossible length).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from webapp.cloudapi import FREE_FORM_MEDIA, MEDIA_TYPES, TemplateVariables, render_template_parts
from webapp.sandbox.errors import GraphError
from webapp.sandbox.templates import TemplateStore

MAX_CALLBACK_DATA = 512
MAX_TEXT_BODY = 4096
MAX_TEMPLATE_BODY = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_TEMPLATE_HEADER = 60
# Meta documents no limit for a quick-reply payload; 256 is the one it documents for a reply button's id.
MAX_BUTTON_PAYLOAD = 256
BUTTON_PARAMETERS = {"url": "text", "quick_reply": "payload"}  # the parameter type each button sub_type takes
_NUMBER_FORMATTING = re.compile(r"[\s\-().]")
_ASCII_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would let other scripts' digits through
# Meta refuses parameter text that would break the template's layout.
_LAYOUT_BREAKING = re.compile(r"[\n\t]| {5,}")


@dataclass
class OutgoingMessage:
    """A message the sandbox accepted: who gets it and what they read."""

    to: str                      # as the request gave it
    wa_id: str                   # the recipient's WhatsApp id (digits)
    type: str                    # template | text | image | video | document | audio | sticker | location | …
    callback_data: str | None
    template: dict | None = None  # the Graph template sent
    params: dict | None = None    # its parameter snapshot (see webapp.cloudapi)
    text: str = ""               # as the customer reads it
    media: dict | None = None     # {"type": …, "link"|"id": …} of a media message
    # (label, payload) of each quick-reply button; the payload is the label unless one was sent.
    quick_replies: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, address) of each URL button
    preview_url: str = ""  # the first web address in the text, which WhatsApp shows a preview of

    @property
    def category(self) -> str:
        """Pricing category: the template's, lower-case; free-form messages are service messages."""
        return self.template["category"].lower() if self.template else "service"

    @property
    def media_id(self) -> str | None:
        """The uploaded media it carries by id, as a media message or a template's media header."""
        return (self.media or (self.params or {}).get("header") or {}).get("id")


@functools.lru_cache(maxsize=8)  # asked on every send
def business_country_code(display_number: str) -> str:
    """The calling code Meta puts before a `to` that has no `+` (reference §1)."""
    try:
        return str(phonenumbers.parse(f"+{display_number}").country_code)
    except phonenumbers.NumberParseException:
        return "1"


# Numbers whose WhatsApp id is not their digits, as Meta reports them for accounts older than a national
# numbering change (docs/sandbox.md): a Brazilian mobile without its ninth digit, a Mexican one with its 1.
_WA_ID_RULES = (
    (re.compile(r"55([1-9]{2})9([0-9]{8})"), r"55\1\2"),
    (re.compile(r"52([1-9][0-9]{9})"), r"521\1"),
)


def recipient_wa_id(to: str, country_code: str) -> str:
    """The WhatsApp id for `to`: its digits, behind the business's calling code when `+` is missing, as
    `whatsapp_id` reports them."""
    raw = _NUMBER_FORMATTING.sub("", to)
    international = raw.startswith("+")
    digits = raw[1:] if international else raw
    if not _ASCII_DIGITS.fullmatch(digits):
        raise GraphError(100, f"Invalid value for parameter to: {to!r} is not a phone number.")
    if not international:
        digits = country_code + digits
    if not 8 <= len(digits) <= 15:
        raise GraphError(131009, f"Recipient phone number {to!r} is not valid.")
    return whatsapp_id(digits)


def whatsapp_id(number: str) -> str:
    """The WhatsApp id Meta reports for an international number in any format (its digits count)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    for pattern, replacement in _WA_ID_RULES:
        if pattern.fullmatch(digits):
            return pattern.sub(replacement, digits)
    return digits


def parse_message(body: Any, templates: TemplateStore, sender_display: str, country_code: str) -> OutgoingMessage:
    """The accepted message for a request body, or GraphError saying why Meta would refuse it."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required.")
    if body.get("recipient_type", "individual") != "individual":
        raise GraphError(100, "Param recipient_type must be individual.")
    to = body.get("to")
    if not isinstance(to, str) or not to.strip():
        raise GraphError(100, "The parameter to is required.")
    wa_id = recipient_wa_id(to, country_code)
    if wa_id == sender_display:
        raise GraphError(131021)
    callback_data = body.get("biz_opaque_callback_data")
    if callback_data is not None and (not isinstance(callback_data, str) or len(callback_data) > MAX_CALLBACK_DATA):
        raise GraphError(100, f"Param biz_opaque_callback_data must be a string of at most {MAX_CALLBACK_DATA} "
                              "characters.")
    message = OutgoingMessage(to=to, wa_id=wa_id, type=body.get("type", "text"), callback_data=callback_data)
    if message.type == "template":
        _read_template(body.get("template"), templates, message)
    elif message.type == "text":
        _read_text(body.get("text"), message)
    elif message.type in FREE_FORM_MEDIA:
        _read_media(body.get(message.type), message)
    elif message.type in _OTHER_FREE_FORM:
        content = body.get(message.type)
        message.text = _OTHER_FREE_FORM[message.type](content)
    else:
        raise GraphError(131051, f"Message type {message.type!r} is not supported by the sandbox.")
    return message


def _read_text(text: Any, message: OutgoingMessage) -> None:
    if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
        raise GraphError(100, "The parameter text['body'] is required.")
    if len(text["body"]) > MAX_TEXT_BODY:
        raise GraphError(100, f"Param text['body'] must be at most {MAX_TEXT_BODY} characters long.")
    message.text = text["body"]


def _read_media(media: Any, message: OutgoingMessage) -> None:
    kind = message.type
    if not isinstance(media, dict):
        raise GraphError(100, f"The parameter {kind} is required.")
    message.media = {"type": kind, **_media_source(media, kind)}
    message.text = str(media.get("caption") or "")


def _read_location(location: Any) -> str:
    if not isinstance(location, dict):
        raise GraphError(100, "The parameter location is required.")
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError) as exc:
        raise GraphError(131008, "location: latitude and longitude are required.") from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise GraphError(131009, "location: latitude or longitude is out of range.")
    place = ", ".join(str(location[key]) for key in ("name", "address") if location.get(key))
    return f"📍 {place} ({latitude}, {longitude})" if place else f"📍 {latitude}, {longitude}"


def _read_contacts(contacts: Any) -> str:
    if not isinstance(contacts, list) or not contacts:
        raise GraphError(100, "Param contacts must be a non-empty array.")
    names = [(c.get("name") or {}).get("formatted_name") if isinstance(c, dict) else None for c in contacts]
    if not all(isinstance(name, str) and name for name in names):
        raise GraphError(131008, "contacts: each contact needs name.formatted_name.")
    return "👤 " + ", ".join(names)


def _read_reaction(reaction: Any) -> str:
    if not isinstance(reaction, dict) or not isinstance(reaction.get("message_id"), str):
        raise GraphError(131008, "reaction: message_id is required.")
    if not isinstance(reaction.get("emoji"), str):  # "" takes a reaction back
        raise GraphError(131008, "reaction: emoji is required.")
    return reaction["emoji"]


def _read_interactive(interactive: Any) -> str:
    if not isinstance(interactive, dict) or not isinstance(interactive.get("type"), str):
        raise GraphError(131008, "interactive: type is required.")
    body = interactive.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        raise GraphError(131008, "interactive: body.text is required.")
    if len(body["text"]) > MAX_INTERACTIVE_BODY:
        raise GraphError(131009, f"interactive: body.text must be at most {MAX_INTERACTIVE_BODY} characters.")
    buttons = (interactive.get("action") or {}).get("buttons") or []
    labels = [str((b.get("reply") or {}).get("title", "")) for b in buttons if isinstance(b, dict)]
    return "\n\n".join([body["text"], *(f"[{label}]" for label in labels if label)])


# Free-form message types other than text and media: type -> reader (checks the object, returns what the
# customer reads).
_OTHER_FREE_FORM = {"location": _read_location, "contacts": _read_contacts, "reaction": _read_reaction,
                    "interactive": _read_interactive}


def _media_source(media: dict, where: str) -> dict:
    if isinstance(media.get("id"), str) and media["id"]:
        source = {"id": media["id"]}
    elif isinstance(media.get("link"), str) and media["link"]:
        if not media["link"].startswith(("https://", "http://")):
            raise GraphError(131009, f"{where}: the link must be an http(s) URL.")
        source = {"link": media["link"]}
    else:
        raise GraphError(131008, f"{where}: a link or an id is required.")
    if media.get("filename"):
        source["filename"] = str(media["filename"])
    return source


WEB_ADDRESS = re.compile(r"https?://[^\s<>\"']+")


def first_web_address(text: str) -> str:
    found = WEB_ADDRESS.search(text or "")
    return found.group(0).rstrip(".,;:!?)") if found else ""


def _read_template(spec: Any, templates: TemplateStore, message: OutgoingMessage) -> None:
    if not isinstance(spec, dict):
        raise GraphError(100, "The parameter template is required.")
    name = spec.get("name")
    language = spec.get("language", {}).get("code") if isinstance(spec.get("language"), dict) else None
    if not isinstance(name, str) or not name:
        raise GraphError(131008, "template: name is required.")
    if not isinstance(language, str) or not language:
        raise GraphError(131008, "template: language.code is required.")
    template = templates.find(name, language)
    if template is None or template["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
        # Meta answers the same for a template that is missing and one not approved in that language.
        raise GraphError(132001, f"template name ({name}) does not exist in {language}")
    if template["status"] == "PAUSED":
        raise GraphError(132015)
    if template["status"] == "DISABLED":
        raise GraphError(132016)
    params = _read_components(spec.get("components", []))
    variables = templates.variables(template)
    _check_header(variables, params.get("header"))
    _check_body(variables, params.get("body"))
    _check_buttons(variables, params.get("buttons", []))
    rendered = render_template_parts(template["components"], params)
    if rendered.header and len(rendered.header) > MAX_TEMPLATE_HEADER:
        raise GraphError(132005, f"header: the text is longer than {MAX_TEMPLATE_HEADER} characters.")
    if len(rendered.body) > MAX_TEMPLATE_BODY:
        raise GraphError(132005, f"body: the text is longer than {MAX_TEMPLATE_BODY} characters.")
    message.template, message.params, message.text = template, params, rendered.text
    payloads = {b["index"]: b.get("payload") for b in params.get("buttons", [])}
    message.quick_replies = [(label, payloads.get(index) or label) for index, label in variables.quick_replies]
    message.links = [(button.label, button.url) for button in rendered.buttons if button.kind == "url" and button.url]
    message.preview_url = first_web_address(rendered.body)


def _read_components(components: Any) -> dict:
    """The parameter snapshot carried by `template.components` (shape errors are 100s)."""
    if not isinstance(components, list):
        raise GraphError(100, "Param template['components'] must be an array.")
    params: dict[str, Any] = {}
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("parameters", []), list):
            raise GraphError(100, "Each template component must be an object with a parameters array.")
        kind = str(component.get("type", "")).lower()
        parameters = component.get("parameters", [])
        if kind in ("header", "body") and kind in params:
            raise GraphError(100, f"Only one {kind} component may be sent.")
        if kind == "header":
            if len(parameters) != 1:
                raise _count_mismatch("header", len(parameters), 1)
            params["header"] = _header_value(parameters[0])
        elif kind == "body":
            params["body"] = _body_values(parameters)
        elif kind == "button":
            params.setdefault("buttons", []).append(_button_value(component, parameters))
        else:
            raise GraphError(100, f"Invalid component type {component.get('type')!r}.")
    return params


def _header_value(parameter: Any) -> dict:
    kind = parameter.get("type") if isinstance(parameter, dict) else None
    if kind == "text":
        value = {"type": "text", "text": _text(parameter, "header")}
        if parameter.get("parameter_name"):
            value["parameter_name"] = parameter["parameter_name"]
        return value
    if kind in MEDIA_TYPES:
        if not isinstance(parameter.get(kind), dict):
            raise GraphError(100, f"header: the {kind} parameter needs an object named {kind}.")
        return {"type": kind, **_media_source(parameter[kind], "header")}
    raise GraphError(100, f"header: parameter type {kind!r} is not supported.")


def _body_values(parameters: list) -> list[str] | dict[str, str]:
    values = [_text(p, "body") for p in parameters]
    names = [p.get("parameter_name") for p in parameters]
    if all(names) and names:
        if len(set(names)) != len(names):
            raise GraphError(100, "body: a parameter_name is used twice.")
        return dict(zip(names, values))
    if any(names):
        raise GraphError(100, "body: either every parameter has a parameter_name or none does.")
    return values


def _text(parameter: Any, where: str) -> str:
    """A text-like parameter's value; currency and date_time read as their fallback_value."""
    kind = parameter.get("type") if isinstance(parameter, dict) else None
    if kind == "text":
        value = parameter.get("text")
    elif kind in ("currency", "date_time"):
        value = (parameter.get(kind) or {}).get("fallback_value")
    else:
        raise GraphError(100, f"{where}: parameter type {kind!r} is not supported.")
    if not isinstance(value, str) or not value.strip():
        raise GraphError(131008, f"{where}: a parameter has no text.")
    if _LAYOUT_BREAKING.search(value):
        raise GraphError(100, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
    return value


def _button_value(component: dict, parameters: list) -> dict:
    sub_type = component.get("sub_type")
    try:
        index = int(component.get("index"))
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index <= 9:
        raise GraphError(100, "button: index must be a number from 0 to 9.")
    if sub_type not in BUTTON_PARAMETERS:
        raise GraphError(100, f"button {index}: sub_type {sub_type!r} is not supported.")
    if len(parameters) != 1:
        raise _count_mismatch(f"button {index}", len(parameters), 1)
    parameter = parameters[0] if isinstance(parameters[0], dict) else {}
    expected = BUTTON_PARAMETERS[sub_type]
    if parameter.get("type") != expected:
        raise _format_mismatch(f"button {index}", expected, parameter.get("type"))
    if sub_type == "url":
        return {"index": index, "sub_type": "url", "text": _text(parameter, f"button {index}")}
    payload = parameter.get("payload")
    if not isinstance(payload, str) or not payload:
        raise GraphError(131008, f"button {index}: the payload is missing or empty.")
    if len(payload) > MAX_BUTTON_PAYLOAD:
        raise GraphError(131009, f"button {index}: the payload is longer than {MAX_BUTTON_PAYLOAD} characters.")
    return {"index": index, "sub_type": "quick_reply", "payload": payload}


def _count_mismatch(where: str, got: int, expected: int) -> GraphError:
    # Meta's own wording for this error.
    return GraphError(132000, f"{where}: number of localizable_params ({got}) does not match the expected number "
                              f"of params ({expected})")


def _format_mismatch(where: str, expected: str, received: object) -> GraphError:
    return GraphError(132012, f"{where}: Format mismatch, expected {str(expected).upper()}, received "
                              f"{str(received).upper()}")


def _check_header(variables: TemplateVariables, header: dict | None) -> None:
    if variables.header is None:
        if header is not None:
            raise _count_mismatch("header", 1, 0)
        return
    if header is None:
        raise _count_mismatch("header", 0, 1)
    if header["type"] != variables.header:
        raise _format_mismatch("header", variables.header, header["type"])
    if variables.named and variables.header == "text" and header.get("parameter_name") != variables.header_variable:
        raise GraphError(100, f"header: parameter_name must be {variables.header_variable!r}.")


def _check_body(variables: TemplateVariables, body: list | dict | None) -> None:
    body = body if body is not None else ({} if variables.named else [])
    if variables.named and isinstance(body, list) and body:
        raise GraphError(100, "Parameter name is missing or empty")
    if not variables.named and isinstance(body, dict) and body:
        raise GraphError(132012, "body: the template's parameters are positional; parameter_name is not expected.")
    if len(body) != len(variables.body):
        raise _count_mismatch("body", len(body), len(variables.body))
    if variables.named and set(body) != set(variables.body):
        unknown = ", ".join(sorted(set(body) - set(variables.body)))
        raise GraphError(132000, f"body: parameter {unknown} is not in the template; expected "
                                 f"{', '.join(variables.body)}")


def _check_buttons(variables: TemplateVariables, buttons: list[dict]) -> None:
    """Each button parameter fits a button of the template that takes one: a dynamic URL or a quick reply."""
    takes = {**dict.fromkeys(variables.url_buttons, "url"),
             **{index: "quick_reply" for index, _label in variables.quick_replies}}
    seen: set[int] = set()
    for button in buttons:
        index = button["index"]
        if index in seen:
            raise GraphError(100, f"button {index}: sent twice.")
        seen.add(index)
        if index not in takes:
            raise _count_mismatch(f"button {index}", 1, 0)
        if takes[index] != button["sub_type"]:
            raise _format_mismatch(f"button {index}", takes[index], button["sub_type"])
    missing = [index for index in variables.url_buttons if index not in seen]
    if missing:
        raise GraphError(132000, f"buttons: the URL button at index {missing[0]} needs its URL suffix parameter.")

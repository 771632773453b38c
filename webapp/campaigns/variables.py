"""Filling a template's variables for one contact: from an attribute, the contact's (first) name, or a constant.

A campaign's `variables` maps each slot the template has to a source:
    {"body:first_name": {"source": "first_name", "fallback": "friend"},
     "body:2": {"source": "attribute", "value": "coupon", "fallback": ""},
     "header": {"source": "constant", "value": "Spring sale"},
     "button:0": {"source": "attribute", "value": "order_id"},
     "body:3": {"source": "constant", "value": "https://shop.example.com/spring", "track": True}}
and its `button_payloads` the payload of each quick-reply button, the same for everyone ({"1": "STOP_PROMOS"};
a button without one is sent with its text). `track` counts the clicks on a web address (campaigns/links.py).
`resolve` turns both into the parameter snapshot of
webapp/cloudapi.py for one contact.

Attribute names are matched without regard to case ("City" in a file fills a variable mapped to "city"), the
same way here, in the audience's counts (webapp/campaigns/audience.py) and in the check that an attribute exists.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from webapp.campaigns.links import is_tracked, track_problem
from webapp.cloudapi import render_template_parts, template_variables

SOURCES = {"first_name": "The contact's first name", "name": "The contact's full name",
           "attribute": "A contact attribute", "constant": "The same text for everyone"}
NAME_SOURCES = ("first_name", "name")  # read from the contact's name: they need no value
FIRST_NAME_VARIABLE = "first_name"  # a template variable so named is filled with the first name by default
# Meta's limits on a filled-in template (error 132005 past them).
MAX_BODY = 1024
MAX_HEADER = 60
MAX_VALUE = 1024
# Meta documents no limit for a quick-reply payload; 256 is the one it documents for a reply button's id.
MAX_PAYLOAD = 256


@dataclass(frozen=True)
class Slot:
    key: str     # "header", "body:<variable>", "button:<index>"
    label: str   # what the compose form calls it


@dataclass(frozen=True)
class _Read:
    """What resolving reads of a template, for every recipient alike."""

    components: list
    parameter_format: str
    needs: object  # cloudapi.TemplateVariables
    slots: list[Slot]


_read: dict[tuple[int, str], _Read] = {}


def _read_once(components: list, parameter_format: str) -> _Read:
    """The template read once per components object: a launch resolves a million recipients with the same one."""
    found = _read.get((id(components), parameter_format))
    if found is None or found.components is not components or found.parameter_format != parameter_format:
        if len(_read) > 256:
            _read.clear()
        found = _Read(components, parameter_format, template_variables(components, parameter_format),
                      _slots(components, parameter_format))
        _read[(id(components), parameter_format)] = found
    return found


def slots(components: list, parameter_format: str) -> list[Slot]:
    return _read_once(components, parameter_format).slots


def _slots(components: list, parameter_format: str) -> list[Slot]:
    needs = template_variables(components, parameter_format)
    found = []
    if needs.header == "text":
        found.append(Slot("header", f"Header {{{{{needs.header_variable}}}}}"))
    found += [Slot(f"body:{name}", f"{{{{{name}}}}}") for name in needs.body]
    found += [Slot(f"button:{index}", f"Button {index + 1} link ending") for index in needs.url_buttons]
    return found


def media_header(components: list, parameter_format: str) -> str | None:
    """The media a template's header needs ("image", "video", "document"), if any."""
    kind = template_variables(components, parameter_format).header
    return kind if kind not in (None, "text") else None


def default_source(slot_key: str) -> str:
    """The source the compose form proposes for a variable nobody has mapped yet."""
    return "first_name" if slot_key.lower() == f"body:{FIRST_NAME_VARIABLE}" else ""


def first_name(name: str) -> str:
    """The first word of a contact's name: "Isaac Robinson" → "Isaac"."""
    words = (name or "").split()
    return words[0] if words else ""


def attribute(attributes: Mapping, key: str) -> str:
    """A contact's attribute by name, whatever its case: the exact name first, else any spelling with a value."""
    exact = _text(attributes.get(key))
    if exact:
        return exact
    folded = key.casefold()
    return next((text for name, value in attributes.items()
                 if name.casefold() == folded and (text := _text(value))), "")


def _text(value) -> str:
    return str(value if value is not None else "").strip()


@dataclass
class Resolved:
    params: dict
    missing: list[str] = field(default_factory=list)  # slots with no value and no fallback
    too_long: str | None = None                         # what Meta would refuse as too long
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # (slot label, fallback) used for this contact


def _own_value(spec: Mapping, name: str, attributes: Mapping) -> str:
    source = spec.get("source")
    if source == "constant":
        return _text(spec.get("value"))
    if source == "name":
        return _text(name)
    if source == "first_name":
        return first_name(name)
    if source == "attribute":
        return attribute(attributes, str(spec.get("value", "")))
    return ""


def resolve(components: list, parameter_format: str, variables: Mapping, header_media_url: str,
            name: str = "", attributes: Mapping | None = None, button_payloads: Mapping | None = None) -> Resolved:
    """The parameter snapshot for one contact, with what is missing or too long."""
    attributes = attributes or {}
    read = _read_once(components, parameter_format)
    needs = read.needs
    params: dict = {}
    missing: list[str] = []
    fallbacks: list[tuple[str, str]] = []
    values = {}
    for slot in read.slots:
        spec = variables.get(slot.key) or {}
        value = _own_value(spec, name, attributes)
        if not value and (value := _text(spec.get("fallback"))):
            fallbacks.append((slot.label, value))
        if not value:
            missing.append(slot.label)
        values[slot.key] = value
    if needs.header == "text":
        params["header"] = {"type": "text", "text": values["header"]}
        if needs.named:
            params["header"]["parameter_name"] = needs.header_variable
    elif needs.header in ("image", "video", "document"):
        params["header"] = {"type": needs.header, "link": header_media_url}
    if needs.body:
        body = [values[f"body:{n}"] for n in needs.body]
        params["body"] = dict(zip(needs.body, body)) if needs.named else body
    buttons = [{"index": i, "sub_type": "url", "text": values[f"button:{i}"]} for i in needs.url_buttons]
    payloads = payloads_of(button_payloads)
    buttons += [{"index": i, "sub_type": "quick_reply", "payload": payloads.get(str(i)) or label}
                for i, label in needs.quick_replies]
    if buttons:
        params["buttons"] = buttons
    return Resolved(params, missing, None if missing else too_long(components, params), fallbacks)


def too_long(components: list, params: dict) -> str | None:
    """Why Meta would refuse this message as too long, or None."""
    lengths = [len(v) for v in _all_values(params)]
    longest = max(lengths, default=0)
    if longest > MAX_VALUE:
        return f"a value is {longest} characters long; Meta accepts at most {MAX_VALUE}"
    texts = text_lengths(components)
    header = params.get("header") or {}
    header_value = len(header.get("text") or "") if header.get("type") == "text" else 0
    if texts.get("BODY", 0) + sum(lengths) <= MAX_BODY and texts.get("HEADER", 0) + header_value <= MAX_HEADER:
        return None  # the text with every value in it could not be too long: no need to render it
    rendered = render_template_parts(components, params)
    if len(rendered.body) > MAX_BODY:
        return f"the message body would be {len(rendered.body)} characters; Meta accepts at most {MAX_BODY}"
    if rendered.header and len(rendered.header) > MAX_HEADER:
        return f"the header would be {len(rendered.header)} characters; Meta accepts at most {MAX_HEADER}"
    return None


def text_lengths(components: list) -> dict[str, int]:
    """The length of each component's own text, by type ("BODY", "HEADER"), before any value is put in."""
    return {str(c.get("type", "")).upper(): len(str(c.get("text") or "")) for c in components}


def _all_values(params: dict):
    body = params.get("body") or []
    yield from (str(v) for v in (body.values() if isinstance(body, Mapping) else body))
    if (params.get("header") or {}).get("type") == "text":
        yield params["header"]["text"]
    yield from (str(b.get("text", "")) for b in params.get("buttons") or [])


def _constants_too_long(components: list, parameter_format: str, variables: Mapping) -> dict[str, str]:
    """The fixed text alone (constants and fallbacks) already makes a message Meta refuses as too long."""
    fixed = {key: {"source": "constant", "value": spec.get("value") if spec.get("source") == "constant"
                   else spec.get("fallback") or "x"} for key, spec in variables.items()}
    problem = resolve(components, parameter_format, fixed, "https://example.invalid/m").too_long
    if not problem:
        return {}
    longest = max(variables, key=lambda key: len(str(fixed[key]["value"])))
    return {longest: f"Too long: {problem} (Meta's error 132005)."}


def source_problems(components: list, parameter_format: str, variables: Mapping) -> dict[str, str]:
    """Slots whose value has no usable source yet, by slot key."""
    problems: dict[str, str] = {}
    for slot in slots(components, parameter_format):
        spec = variables.get(slot.key) or {}
        if spec.get("source") not in SOURCES:
            problems[slot.key] = "Choose where this value comes from."
        elif spec.get("source") in ("constant", "attribute") and not str(spec.get("value", "")).strip():
            problems[slot.key] = "Enter the text." if spec["source"] == "constant" else "Choose the attribute."
        elif len(str(spec.get("value", ""))) > MAX_VALUE or len(str(spec.get("fallback", ""))) > MAX_VALUE:
            problems[slot.key] = f"At most {MAX_VALUE} characters."
        elif spec.get("source") == "attribute" and any(c in str(spec.get("value", "")) for c in '"\\'):
            problems[slot.key] = "Attribute names with quotes or backslashes cannot be used; rename the column."
        elif is_tracked(spec) and (problem := track_problem(components, slot.key, spec)):
            problems[slot.key] = problem
    return problems


def payloads_of(given: Mapping | None) -> dict[str, str]:
    """Quick-reply payloads as a campaign keeps them: by button index, trimmed; a blank one is left out, so
    its button is sent with its text."""
    return {str(index): str(payload).strip() for index, payload in (given or {}).items() if str(payload).strip()}


def payload_problems(components: list, button_payloads: Mapping) -> dict[str, str]:
    """Payloads Meta would refuse or that fit no quick-reply button of the template, by "payload:<index>"."""
    buttons = dict(template_variables(components).quick_replies)
    problems = {}
    for index, payload in payloads_of(button_payloads).items():
        if not index.isdigit() or int(index) not in buttons:
            problems[f"payload:{index}"] = f"The template has no quick-reply button at index {index}."
        elif len(payload) > MAX_PAYLOAD:
            problems[f"payload:{index}"] = f"At most {MAX_PAYLOAD} characters."
    return problems


def check_mapping(components: list, parameter_format: str, variables: Mapping, header_media_url: str) -> dict[str, str]:
    """Compose-time problems, by slot key: unmapped slots, bad media URL, text Meta would refuse as too long."""
    problems = source_problems(components, parameter_format, variables)
    if media_header(components, parameter_format):
        parts = urlsplit(header_media_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems["header_media_url"] = "Enter the https:// address of the header's media file."
    if not problems:
        problems.update(_constants_too_long(components, parameter_format, variables))
    return problems

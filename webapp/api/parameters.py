"""A template's values as API clients give them — an array in slot order, or an object by variable name —
turned into the constant entries of a campaign's variable mapping (webapp/campaigns/variables.py), so the
one `resolve` fills and checks them as it does for the compose page."""
from __future__ import annotations

from collections.abc import Mapping

from webapp.campaigns.variables import slots
from webapp.cloudapi import template_variables

MEDIA_KEYS = ("header_url", "header_filename")


class ParameterError(ValueError):
    """The values do not fit the template; the message says how, for the client's developer."""


def names(components: list, parameter_format: str) -> dict[str, list[str]]:
    """Every name a value may be given under, with the slot keys it fills: the slot key itself, and the
    variable's own name ("first_name", "1") — a named template may use one name in its header and body."""
    needs = template_variables(components, parameter_format)
    found: dict[str, list[str]] = {}
    for slot in slots(components, parameter_format):
        found.setdefault(slot.key, []).append(slot.key)
        if slot.key.startswith("body:"):
            found.setdefault(slot.key.split(":", 1)[1], []).append(slot.key)
        elif slot.key == "header" and needs.header_variable:
            found.setdefault(needs.header_variable, []).append(slot.key)
    return found


def as_variables(components: list, parameter_format: str, given: list | Mapping) -> tuple[dict, dict]:
    """(constant variable entries by slot key, {header_url, header_filename} given with them)."""
    needed = slots(components, parameter_format)
    if isinstance(given, list):
        if len(given) != len(needed):
            takes = ", ".join(slot.label for slot in needed) or "none"
            raise ParameterError(f"the template takes {len(needed)} parameter{'' if len(needed) == 1 else 's'} "
                                 f"({takes}) but {len(given)} {'was' if len(given) == 1 else 'were'} given")
        return {slot.key: _constant(value) for slot, value in zip(needed, given)}, {}
    accepted = names(components, parameter_format)
    media = {key: str(given[key]) for key in MEDIA_KEYS if key in given}
    unknown = [name for name in given if name not in accepted and name not in MEDIA_KEYS]
    if unknown:
        known = ", ".join(name for name in accepted if ":" not in name and name != "header") or "none"
        raise ParameterError(f"the template has no parameter {', '.join(unknown)}; its parameters are: {known}")
    constants = {}
    for name, value in given.items():
        for key in accepted.get(name, ()):
            constants[key] = _constant(value)
    return constants, media


def _constant(value) -> dict:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 50.0 reads 50, as the client's JSON most likely meant it
    return {"source": "constant", "value": value if isinstance(value, str) else str(value)}

"""What the forms of every area share: input filters and choice lists."""
from __future__ import annotations

import phonenumbers
from wtforms import SelectChoice


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def country_choices() -> list[SelectChoice]:
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return [SelectChoice(r, f"{r} (+{phonenumbers.country_code_for_region(r)})") for r in regions]

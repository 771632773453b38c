"""WTForms filters shared by the forms of every area."""
from __future__ import annotations


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

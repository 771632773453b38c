"""Kapso's WhatsApp broadcasts under /compat/kapso (seed 004, the capture)."""
from __future__ import annotations

from webapp.compat.common import CompatApi

SCHEMAS = {"Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"],
                     "additionalProperties": False}}

api = CompatApi("kapso", "Kapso", key_header="X-API-Key", schemas=SCHEMAS,
                error=lambda status, message, details: {"error": message})

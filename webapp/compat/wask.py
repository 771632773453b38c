"""wask's broadcast lists under /compat/wask (seed 000)."""
from __future__ import annotations

from webapp.compat.common import CompatApi

SCHEMAS = {"Error": {"type": "object", "properties": {"success": {"const": False}, "error": {"type": "string"}},
                     "required": ["success", "error"], "additionalProperties": False}}

api = CompatApi("wask", "wask broadcast lists", key_header="X-API-Key", schemas=SCHEMAS,
                error=lambda status, message, details: {"success": False, "error": message})

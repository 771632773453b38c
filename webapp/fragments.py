"""How a view answers htmx: the fragment a request targets, or the whole page (htmx-flask's request.htmx)."""
from __future__ import annotations

from htmx_flask import request


def targets(element_id: str) -> bool:
    """True when htmx asks for the element `element_id` (its HX-Target) rather than the whole page.

    A view that answers both ways must also send `Vary: HX-Request, HX-Target`, so that a cached
    fragment never stands in for the page.
    """
    return bool(request.htmx) and request.htmx.target == element_id

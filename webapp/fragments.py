"""How a view answers htmx: the fragment a request targets, or the whole page (htmx-flask's request.htmx)."""
from __future__ import annotations

from htmx_flask import request


def targets(element_id: str) -> bool:
    """True when htmx asks for the element `element_id` (its HX-Target) rather than the whole page.

    A view that answers both ways must also send `Vary: HX-Request, HX-Target`, so that a cached
    fragment never stands in for the page.
    """
    return bool(request.htmx) and request.htmx.target == element_id


def target() -> str | None:
    """The id of the element an htmx request targets (None for a page request)."""
    return request.htmx.target if request.htmx else None


def answer(template: str, http_status: int = 200, **context):
    """Render `template` (a fragment or a page, as the view chose by `targets`), telling caches that the
    answer depends on the htmx headers."""
    from flask import make_response, render_template

    return _varying(make_response(render_template(template, **context), http_status))


def answer_nothing():
    """204 No Content: htmx swaps nothing (a poll that found nothing new)."""
    from flask import make_response

    return _varying(make_response("", 204))


def _varying(response):
    response.vary.update(("HX-Request", "HX-Target"))
    return response

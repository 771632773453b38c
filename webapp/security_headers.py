"""The security headers of every answer: set by the app on each response (webapp/web.py) and by the click
redirect's front door on its own (webapp/tracking/front.py)."""
from __future__ import annotations

from collections.abc import Mapping

EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy":
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
}
HSTS = ("Strict-Transport-Security", "max-age=31536000")  # a year, renewed each answer


def security_headers(config: Mapping, debug: bool = False) -> dict[str, str]:
    """The headers every answer carries under this configuration (HSTS in production, not when testing)."""
    headers = dict(EVERY_ANSWER)
    if config["PRODUCTION"] and not (debug or config.get("TESTING")):
        headers[HSTS[0]] = HSTS[1]
    return headers

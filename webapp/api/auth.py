"""Who is calling: the request's API key, its rate, and its scopes, checked before any endpoint runs."""
from __future__ import annotations

from flask import g, request

from webapp.api import keys
from webapp.api.errors import ApiError
from webapp.api.models import ApiKey
from webapp.api.ratelimit import KeyRateLimiter
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.timestamps import iso

HEADER = "X-API-Key"


def authenticate(scope: str, raw: str | None = None, header: str = HEADER) -> ApiKey:
    """The key of this request, allowed `scope` and within its rate; else the ApiError to answer with. `raw` is
    the key as another header form carried it (the compat APIs' `Authorization: Bearer`), `header` that form."""
    raw = (request.headers.get(HEADER, "") if raw is None else raw).strip()
    if not raw:
        raise ApiError("missing_api_key", f"Send an API key in the {header} header. Admins create keys in "
                                          "Settings → API keys.")
    key = keys.find(db.session, raw)
    if key is None:
        raise ApiError("invalid_api_key", "This API key is not valid.")
    if key.revoked_at is not None:
        raise ApiError("invalid_api_key", "This API key was revoked.",
                       {"revoked_at": iso(key.revoked_at)})
    verdict = KeyRateLimiter(redis_client()).take(key.id, key.rate_per_minute)
    g.api_rate = (key.rate_per_minute, verdict.remaining)
    if not verdict.allowed:
        raise ApiError("rate_limited", f"This key may make {key.rate_per_minute} requests a minute; try again in "
                                       f"{verdict.retry_after} s.", {"retry_after": verdict.retry_after},
                       headers={"Retry-After": str(verdict.retry_after)})
    if scope not in keys.granted(key):
        raise ApiError("insufficient_scope", f"This key does not have the {scope} scope.",
                       {"required": scope, "granted": sorted(key.scopes or [])})
    if keys.note_use(key):
        db.session.commit()
    g.api_key = key
    return key


def rate_headers(answer):
    """X-RateLimit-* on every answer to a known key, so clients can pace themselves before a 429."""
    limit = g.get("api_rate")
    if limit is not None:
        answer.headers["X-RateLimit-Limit"] = str(limit[0])
        answer.headers["X-RateLimit-Remaining"] = str(max(0, limit[1]))
    return answer

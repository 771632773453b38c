"""Idempotency-Key on POST: a retry with the same key and body within 24 hours gets the first answer again.

The key is reserved (a row with status 0) before the work starts, so two concurrent retries cannot both
do it; the answer is stored when the work ends. Answers of 5xx are not kept: those may be retried.
The reservation and the stored answer are commits of their own, around the handler's transaction.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import Response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.api.errors import ApiError
from webapp.api.models import ApiKey, IdempotentResponse
from webapp.extensions import db
from webapp.timestamps import utcnow

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
IN_PROGRESS = 0


def _key() -> str | None:
    value = request.headers.get(HEADER, "").strip()
    if not value:
        return None
    if len(value) > 255:
        raise ApiError("invalid_request", f"{HEADER} has at most 255 characters.", {"field": HEADER})
    return value


def _fingerprint() -> str:
    """The request as the same retry would send it again: method, path, query and the body's JSON value."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw.strip() else b""
    except (ValueError, RecursionError):
        body = raw
    return hashlib.sha256(b"\n".join([request.method.encode(), request.full_path.encode(), body])).hexdigest()


def _busy() -> ApiError:
    return ApiError("idempotency_in_progress", "A request with this Idempotency-Key is being answered; retry in a "
                                               "moment.", {"field": HEADER})


def begin(key: ApiKey) -> Response | None:
    """The stored answer to replay, or None after reserving the Idempotency-Key (when there is one)."""
    name = _key()
    if name is None:
        return None
    fingerprint = _fingerprint()
    db.session.execute(delete(IdempotentResponse).where(IdempotentResponse.api_key_id == key.id,
                                                        IdempotentResponse.created_at < utcnow() - KEPT))
    stored = db.session.scalar(select(IdempotentResponse).where(IdempotentResponse.api_key_id == key.id,
                                                                IdempotentResponse.key == name))
    if stored is None:
        db.session.add(IdempotentResponse(api_key_id=key.id, key=name, request_hash=fingerprint,
                                          status_code=IN_PROGRESS, body=""))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise _busy() from None
        return None
    db.session.commit()
    if stored.status_code == IN_PROGRESS:
        raise _busy()
    if stored.request_hash != fingerprint:
        raise ApiError("idempotency_key_reused", "This Idempotency-Key was used for a different request in the "
                                                 "last 24 hours; use a new key for a new request.",
                       {"field": HEADER})
    replay = Response(stored.body, status=stored.status_code, mimetype="application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def finish(key: ApiKey | None, answer: Response) -> None:
    """Keep the answer for replays (or free the key after a server error)."""
    name = _key() if key is not None and request.method == "POST" else None
    if name is None:
        return
    if answer.status_code >= 500:
        abandon(key)
        return
    stored = db.session.scalar(select(IdempotentResponse).where(IdempotentResponse.api_key_id == key.id,
                                                                IdempotentResponse.key == name))
    if stored is not None:
        stored.status_code, stored.body = answer.status_code, answer.get_data(as_text=True)
        db.session.commit()


def abandon(key: ApiKey | None) -> None:
    """Free a reserved key whose request failed on our side, so the client's retry runs it."""
    name = _key() if key is not None and request.method == "POST" else None
    if name is None:
        return
    db.session.rollback()
    db.session.execute(delete(IdempotentResponse).where(IdempotentResponse.api_key_id == key.id,
                                                        IdempotentResponse.key == name,
                                                        IdempotentResponse.status_code == IN_PROGRESS))
    db.session.commit()

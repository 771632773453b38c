"""The rules of a webhook POST from Meta, in one home for the two doors that answer it: the front door before
Flask (webapp/webhooks/front.py), which takes nearly every POST, and Flask's view (webapp/webhooks/views.py), which
takes what the front door hands on. Both answer with what this returns, so a rule is never written twice."""
from __future__ import annotations

import json
from collections.abc import Callable

from webapp.webhooks import ingest
from webapp.webhooks.verification import app_secret, signature_valid

MAX_BODY = 3 * 1024 * 1024  # Meta's largest webhook POST
TOO_LARGE = "Body larger than 3 MB", 413


def receive_post(content_length: int | None, read: Callable[[int], bytes], signature: str | None) -> tuple[str, int]:
    """Verify, store, apply: the answer's text and status. 200 once the event is stored (whatever applying did),
    so Meta need not retry; 503 when it was not stored, so Meta retries. Needs the app's context."""
    if (content_length or 0) > MAX_BODY:
        return TOO_LARGE
    body = read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return TOO_LARGE
    if not signature_valid(body, signature, app_secret()):
        return "Invalid signature", 403
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return "Malformed JSON", 400
    if not isinstance(payload, dict):
        return "Expected a JSON object", 400
    if not ingest.receive(body, payload):
        return "Not stored; please retry", 503
    return "OK", 200

"""Meta's webhook endpoint (public, signed), and the old Replies page's address (now the Inbox)."""
from __future__ import annotations

import json

from flask import Blueprint, redirect, request, url_for

from webapp.extensions import csrf
from webapp.url_numbers import number_arg
from webapp.webhooks import ingest
from webapp.webhooks.verification import app_secret, signature_valid, token_matches, verify_token

bp = Blueprint("webhooks", __name__)

MAX_BODY = 3 * 1024 * 1024  # Meta's largest webhook POST


@bp.get("/webhooks/meta")
def verify():
    """Meta's subscription handshake: echo the challenge when the verify token is ours."""
    args = request.args
    if args.get("hub.mode") == "subscribe" and token_matches(args.get("hub.verify_token"), verify_token()):
        return _plain(args.get("hub.challenge", ""), 200)
    return _plain("Verification token mismatch", 403)


@csrf.exempt
@bp.post("/webhooks/meta")
def receive():
    """Verify, store, apply, answer 200: whatever applying does, the event is kept and Meta need not retry."""
    if (request.content_length or 0) > MAX_BODY:
        return _plain("Body larger than 3 MB", 413)
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _plain("Body larger than 3 MB", 413)
    if not signature_valid(body, request.headers.get("X-Hub-Signature-256"), app_secret()):
        return _plain("Invalid signature", 403)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _plain("Malformed JSON", 400)
    if not isinstance(payload, dict):
        return _plain("Expected a JSON object", 400)
    if not ingest.receive(body, payload):
        return _plain("Not stored; please retry", 503)
    return _plain("OK", 200)


@bp.get("/replies")
def replies():
    """The Replies page became the Inbox (one conversation per customer); old links and bookmarks land there."""
    return redirect(url_for("inbox.index", campaign=number_arg(request.args, "campaign")), 301)


def _plain(text: str, status: int):
    return text, status, {"Content-Type": "text/plain; charset=utf-8"}

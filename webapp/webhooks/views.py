"""Meta's webhook endpoint (public, signed), and the old Replies page's address (now the Inbox)."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from webapp.extensions import csrf
from webapp.url_numbers import number_arg
from webapp.webhooks.receipt import receive_post
from webapp.webhooks.verification import token_matches, verify_token

bp = Blueprint("webhooks", __name__)


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
    """What the front door (webapp/webhooks/front.py) hands on: a body of unknown length, or one it failed on."""
    return _plain(*receive_post(request.content_length, request.stream.read, request.headers.get("X-Hub-Signature-256")))


@bp.get("/replies")
def replies():
    """The Replies page became the Inbox (one conversation per customer); old links and bookmarks land there."""
    return redirect(url_for("inbox.index", campaign=number_arg(request.args, "campaign")), 301)


def _plain(text: str, status: int):
    return text, status, {"Content-Type": "text/plain; charset=utf-8"}

"""Rules for sender numbers and templates, shared by settings pages, first-run setup and jobs."""
from __future__ import annotations

import secrets
from functools import lru_cache

from flask import current_app
from sqlalchemy import select

from webapp.cloudapi import CloudAPI
from webapp.extensions import db
from webapp.senders.models import Sender
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

# The sandbox's identity (see docs/sandbox.md); the launcher hands the same values to the sandbox process.
SANDBOX_PHONE_NUMBER_ID = "100000000000001"
SANDBOX_WABA_ID = "200000000000001"
SANDBOX_DISPLAY_NUMBER = "15550001234"


def provision_sandbox() -> Sender | None:
    """On first run, make the sandbox the default sender and give the webhook a secret to sign with."""
    if not current_app.config["SANDBOX_ENABLED"]:
        return None
    settings = WorkspaceSettings.get()
    if not settings.meta_app_secret:
        settings.meta_app_secret = secrets.token_hex(24)
    if not settings.meta_verify_token:
        settings.meta_verify_token = secrets.token_urlsafe(18)
    sender = db.session.scalar(select(Sender).where(Sender.phone_number_id == SANDBOX_PHONE_NUMBER_ID))
    if sender is None:
        sender = Sender(
            label="Sandbox (test number)", phone_number_id=SANDBOX_PHONE_NUMBER_ID, waba_id=SANDBOX_WABA_ID,
            display_phone_number=SANDBOX_DISPLAY_NUMBER, access_token=secrets.token_urlsafe(24),
            throughput=80, messaging_limit=None, is_sandbox=True,
        )
        db.session.add(sender)
    return sender


def sandbox_environment(port: str) -> dict[str, str]:
    """What the sandbox process needs to act as this app's Meta: its port, our webhook, the shared secrets."""
    settings = WorkspaceSettings.get()
    sender = db.session.scalar(select(Sender).where(Sender.phone_number_id == SANDBOX_PHONE_NUMBER_ID))
    sandbox_port = current_app.config["SANDBOX_URL"].rsplit(":", 1)[-1].strip("/")
    return {
        "SANDBOX_PORT": sandbox_port,
        "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/meta",
        "SANDBOX_APP_URL": current_app.config["PUBLIC_URL"],  # its demo link button opens our tracked links
        "SANDBOX_APP_SECRET": current_app.config["META_APP_SECRET"] or settings.meta_app_secret,
        "SANDBOX_VERIFY_TOKEN": current_app.config["META_VERIFY_TOKEN"] or settings.meta_verify_token,
        "SANDBOX_ACCESS_TOKEN": sender.access_token if sender else "",
        "SANDBOX_PHONE_NUMBER_ID": SANDBOX_PHONE_NUMBER_ID,
        "SANDBOX_WABA_ID": SANDBOX_WABA_ID,
        "SANDBOX_DISPLAY_NUMBER": SANDBOX_DISPLAY_NUMBER,
    }


def client_for(sender: Sender) -> CloudAPI:
    """The Cloud API client of a sender: the sandbox's for the sandbox number, Meta's Graph API otherwise."""
    config = current_app.config
    base = config["SANDBOX_URL"] if sender.is_sandbox else config["META_GRAPH_URL"]
    return _client(base, config["META_GRAPH_VERSION"], sender.access_token, config["SEND_CONCURRENCY"] * 2,
                   config["GRAPH_TIMEOUT_SECONDS"])


@lru_cache(maxsize=32)
def _client(base: str, version: str, token: str, pool_size: int, timeout: float) -> CloudAPI:
    # One client (one connection pool) per process and sender, shared by the dispatcher's threads.
    return CloudAPI(base, version, token, timeout=(3.05, timeout), pool_size=pool_size)


def sync_templates(sender: Sender) -> dict[str, int]:
    """Fetch the WhatsApp account's templates from the Graph API and store them; return what changed.

    Templates the account no longer has are marked DELETED rather than removed, so drafts that chose
    one can say why it cannot be sent.
    """
    from webapp.senders.models import Template

    fetched = list(client_for(sender).list_templates(sender.waba_id))
    known = {(t.name, t.language): t for t in db.session.scalars(select(Template).where(Template.waba_id == sender.waba_id))}
    added = updated = 0
    seen = set()
    now = utcnow()
    for item in fetched:
        key = (item["name"], item["language"])
        seen.add(key)
        row = known.get(key)
        if row is None:
            row = Template(waba_id=sender.waba_id, name=item["name"], language=item["language"])
            db.session.add(row)
            added += 1
        else:
            updated += 1
        row.meta_id = str(item.get("id", ""))
        row.status = item.get("status", "")
        row.category = item.get("category", "")
        row.parameter_format = item.get("parameter_format") or "POSITIONAL"
        row.components = item.get("components") or []
        row.synced_at = now
    removed = 0
    for key, row in known.items():
        if key not in seen and row.status != "DELETED":
            row.status, removed = "DELETED", removed + 1
    return {"added": added, "updated": updated, "removed": removed}

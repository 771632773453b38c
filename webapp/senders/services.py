"""Rules for sender numbers and templates, shared by settings pages, first-run setup and jobs."""
from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.senders.models import Sender
from webapp.settings.models import WorkspaceSettings

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
    db.session.commit()
    return sender


def sandbox_environment(port: str) -> dict[str, str]:
    """What the sandbox process needs to act as this app's Meta: its port, our webhook, the shared secrets."""
    settings = WorkspaceSettings.get()
    sender = db.session.scalar(select(Sender).where(Sender.phone_number_id == SANDBOX_PHONE_NUMBER_ID))
    sandbox_port = current_app.config["META_GRAPH_URL"].rsplit(":", 1)[-1].strip("/")
    return {
        "SANDBOX_PORT": sandbox_port,
        "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/meta",
        "SANDBOX_APP_SECRET": current_app.config["META_APP_SECRET"] or settings.meta_app_secret,
        "SANDBOX_ACCESS_TOKEN": sender.access_token if sender else "",
        "SANDBOX_PHONE_NUMBER_ID": SANDBOX_PHONE_NUMBER_ID,
        "SANDBOX_WABA_ID": SANDBOX_WABA_ID,
        "SANDBOX_DISPLAY_NUMBER": SANDBOX_DISPLAY_NUMBER,
    }

"""Who may call the webhook: the verify token of Meta's handshake and the app secret that signs every POST."""
from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

SECRET_TTL = 5.0  # seconds a process trusts the secret it read from Settings (a POST then needs no query)


def app_secret() -> str:
    """META_APP_SECRET from the environment wins (as deployments expect), else the one in Settings."""
    if current_app.config.get("META_APP_SECRET"):
        return current_app.config["META_APP_SECRET"]
    cached = current_app.extensions.get("webhook_app_secret")
    if cached is None or time.monotonic() - cached[1] > SECRET_TTL:
        cached = current_app.extensions["webhook_app_secret"] = (_settings_value("meta_app_secret"),
                                                                  time.monotonic())
    return cached[0]


def verify_token() -> str:
    return current_app.config.get("META_VERIFY_TOKEN") or _settings_value("meta_verify_token")


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body, compared in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())


def token_matches(given: str | None, expected: str) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _settings_value(name: str) -> str:
    """Read on a connection of its own, returned at once: a webhook request then holds none while it
    waits for the writer (webapp/webhooks/ingest.py), which needs one from the same pool."""
    with db.engine.connect() as connection:
        return connection.scalar(select(getattr(WorkspaceSettings, name)).where(WorkspaceSettings.id == 1)) or ""

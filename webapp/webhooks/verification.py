"""Who may call the webhook: the verify token of Meta's handshake and the app secret that signs every POST."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy.orm import Session

from webapp.settings.models import WorkspaceSettings


def app_secret(session: Session) -> str:
    """META_APP_SECRET from the environment wins (as deployments expect), else the one in Settings."""
    return current_app.config.get("META_APP_SECRET") or _settings_value(session, "meta_app_secret")


def verify_token(session: Session) -> str:
    return current_app.config.get("META_VERIFY_TOKEN") or _settings_value(session, "meta_verify_token")


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body, compared in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())


def token_matches(given: str | None, expected: str) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _settings_value(session: Session, name: str) -> str:
    settings = session.get(WorkspaceSettings, 1)
    return getattr(settings, name) if settings else ""

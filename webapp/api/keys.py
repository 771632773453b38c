"""API keys: create one (its secret shown once), find the key of a request, record its use, revoke it.

A key reads `bk_<prefix>_<secret>`. Only the sha256 of the whole key is stored; the prefix, kept in clear,
finds the row and names the key on the settings page.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.api.models import SCOPES, ApiKey
from webapp.timestamps import utcnow

DEFAULT_RATE = 600  # requests per minute
MAX_RATE = 100_000
LAST_USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often, not on every request
# A scope that allows writing also allows reading what it writes.
IMPLIED = {"lists:write": ("lists:read",), "broadcasts:send": ("broadcasts:read",), "inbox:send": ("inbox:read",),
           "contacts:write": ("contacts:read",), "segments:write": ("segments:read",)}
_FORMAT = re.compile(r"bk_([0-9a-f]{8})_[A-Za-z0-9_-]{20,100}")


class ApiKeyError(ValueError):
    """A key cannot be created as asked; the message is for people."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown once and never stored


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(session: Session, name: str, scopes: list[str], rate_per_minute: int = DEFAULT_RATE,
           user_id: int | None = None) -> NewKey:
    name = " ".join((name or "").split())
    if not name:
        raise ApiKeyError("Give the key a name, such as the program that will use it.", "name")
    if len(name) > 120:
        raise ApiKeyError("At most 120 characters.", "name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"Unknown scope {', '.join(unknown)}.", "scopes")
    if not scopes:
        raise ApiKeyError("Choose at least one scope.", "scopes")
    if not 1 <= int(rate_per_minute) <= MAX_RATE:
        raise ApiKeyError(f"Between 1 and {MAX_RATE:,} requests per minute.", "rate_per_minute")
    prefix = secrets.token_hex(4)
    while session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = secrets.token_hex(4)
    secret = f"bk_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=_digest(secret), scopes=[s for s in SCOPES if s in scopes],
                 rate_per_minute=int(rate_per_minute), created_by_id=user_id)
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def find(session: Session, raw: str) -> ApiKey | None:
    """The key a request presents, revoked or not; None when no key matches."""
    match = _FORMAT.fullmatch(raw.strip())
    if match is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.key_hash, _digest(raw.strip())):
        return None
    return key


def granted(key: ApiKey) -> set[str]:
    """The scopes a key holds, with the reads its writes imply."""
    scopes = set(key.scopes or [])
    for scope in list(scopes):
        scopes.update(IMPLIED.get(scope, ()))
    return scopes


def note_use(key: ApiKey) -> bool:
    """Record the key's last use, at most once a minute, so a busy client does not write on every request;
    True when there is something to commit."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        key.last_used_at = now
        return True
    return False


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(),
                                                        ApiKey.id.desc())))


def revoke(session: Session, key: ApiKey) -> bool:
    """Refuse the key from now on; False when it was already revoked."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    session.flush()
    return True


def shown_prefix(key: ApiKey) -> str:
    """How the key is named in lists: its start, as the client has it."""
    return f"bk_{key.prefix}_…"

"""Account rules shared by the views, the CLI and the settings pages."""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import func, select

from webapp.auth.models import ROLES, User
from webapp.extensions import db, login_manager
from webapp.queues import redis_client

MIN_PASSWORD = 10


class AccountError(ValueError):
    """A rule about accounts was broken; the message is for people."""


@login_manager.user_loader
def load_user(token: str) -> User | None:
    user_id, _, version = token.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or str(user.session_version) != version:
        return None  # password reset or account disabled since this session began
    return user


def needs_setup() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) == 0


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str, role: str = "staff", name: str = "") -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid email address.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise AccountError("A user with that email already exists.")
    user = User(email=email, role=role, name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def admin_required(view):
    """Refuse staff (403) on admin pages; the login gate has already refused visitors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403, "Only administrators can open this page.")
        return view(*args, **kwargs)

    return wrapped


class LoginThrottle:
    """Counts failed logins per account and per address in Redis; past the limit, logins wait."""

    def __init__(self) -> None:
        self.redis = redis_client()
        self.limit = current_app.config["LOGIN_MAX_FAILURES"]
        self.window = current_app.config["LOGIN_LOCK_SECONDS"]

    def _keys(self, email: str, address: str) -> list[tuple[str, int]]:
        account = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
        # An address may be shared by a whole office, so it gets more room than one account.
        return [(f"login-failures:account:{account}", self.limit), (f"login-failures:ip:{address}", self.limit * 4)]

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until this account and address may try again (0: now)."""
        waits = [self.redis.ttl(key) for key, limit in self._keys(email, address)
                 if int(self.redis.get(key) or 0) >= limit]
        return max([w for w in waits if w > 0], default=0)

    def failed(self, email: str, address: str) -> None:
        pipe = self.redis.pipeline()
        for key, _ in self._keys(email, address):
            pipe.incr(key)
            pipe.expire(key, self.window)
        pipe.execute()

    def succeeded(self, email: str, address: str) -> None:
        self.redis.delete(self._keys(email, address)[0][0])

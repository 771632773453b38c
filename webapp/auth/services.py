"""Account rules shared by the views, the CLI and the settings pages."""
from __future__ import annotations

import math
import secrets
from functools import cache, wraps

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth.models import ROLES, User
from webapp.auth.passwords import weakness
from webapp.auth.throttle import LoginThrottle
from webapp.extensions import db, login_manager
from webapp.queues import redis_client
from webapp.timestamps import utcnow

LOGIN_FAILED = "That email and password do not match an active account."


class AccountError(ValueError):
    """A rule about accounts was broken; the message is for people, `field` names the form field it is about."""

    def __init__(self, message: str, field: str = "email") -> None:
        super().__init__(message)
        self.field = field


class TooManyAttempts(AccountError):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"Too many failed attempts. Try again in {math.ceil(wait_seconds / 60)} minute(s).")


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
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise AccountError("A user with that email already exists.")
    user = User(email=email, role=role, name=(name or "").strip())
    choose_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def choose_password(user: User, password: str) -> None:
    """Give the account a new password, if it is not too easy to guess; every session of the account ends."""
    if problem := weakness(password, user.email):
        raise AccountError(problem, field="password")
    user.set_password(password)


def change_own_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("That is not your current password.", field="current_password")
    choose_password(user, new)


def admin_required(view):
    """Refuse staff (403) on admin pages; the login gate has already refused visitors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403, "Only administrators can open this page.")
        return view(*args, **kwargs)

    return wrapped


def authenticate(email: str, password: str, address: str) -> User:
    """The active account these credentials open, its login recorded. An attempt past the throttle's limit for
    this account and address raises TooManyAttempts before any password is checked."""
    email = normalise_email(email)
    config = current_app.config
    throttle = LoginThrottle(redis_client(), config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_SECONDS"])
    wait = throttle.take(email, address)
    if wait:
        raise TooManyAttempts(wait)
    user = db.session.scalar(select(User).where(User.email == email))
    # An unknown email checks a stand-in hash: its answer takes as long as a wrong password's, and names nobody.
    matches = user.check_password(password) if user else check_password_hash(
        _stand_in_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    if user is None or not user.active or not matches:
        raise AccountError(LOGIN_FAILED)
    throttle.clear(email, address)
    user.last_login_at = utcnow()
    return user


@cache
def _stand_in_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)

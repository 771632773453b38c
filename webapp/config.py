"""Configuration read from the environment, with safe defaults for a one-command local run."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> Path:
    """The folder for local state: the SQLite file, the secret key, uploads, the private Redis."""
    path = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings for every process (web, worker, cron); each read from the variable of the same name."""

    def __init__(self) -> None:
        folder = instance_path()
        self.INSTANCE_PATH = str(folder)
        self.SECRET_KEY = secret_key(folder)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'broadcaster.db'}"
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # Empty means: start (or reuse) the private redis-server kept in instance/.
        self.REDIS_URL = os.environ.get("REDIS_URL", "")
        # The files every machine must reach (docs/deploy.md, Several machines): uploads, which an importer reads,
        # and the inbox's media. Empty means: in the instance folder, which is right on one machine.
        self.SHARED_FILES_PATH = os.environ.get("SHARED_FILES_PATH", "")
        self.UPLOAD_FOLDER = str(Path(self.SHARED_FILES_PATH or folder) / "uploads")
        self.MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_MB", 50) * 1024 * 1024
        self.INBOX_MEDIA_MAX_MB = env_int("INBOX_MEDIA_MAX_MB", 25)  # a customer's file the inbox keeps, at most
        # How long an upload left at its column step (or a stray file in the folder) is kept.
        self.UPLOAD_RETENTION_HOURS = env_int("UPLOAD_RETENTION_HOURS", 24)
        # A deployment served over HTTPS (docs/deploy.md): cookies travel only over HTTPS, and browsers are told
        # (HSTS) to come back only that way.
        self.PRODUCTION = env_bool("PRODUCTION")
        # Memory an import job may take on top of the worker's own; a file that needs more fails with a message.
        self.IMPORT_MEMORY_MB = env_int("IMPORT_MEMORY_MB", 1024)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", self.PRODUCTION)
        self.REMEMBER_COOKIE_NAME = "remember_token"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_DURATION = timedelta(days=env_int("REMEMBER_DAYS", 14))
        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
        # werkzeug's method for stored passwords. scrypt costs ~0.15 s a hash, by design; the test suite, which
        # creates and logs in a user in most of its 1,800 tests, sets a cheap one (tests/conftest.py).
        self.PASSWORD_HASH_METHOD = "scrypt"
        self.LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 300)
        # How many reverse proxies in front of the app append to X-Forwarded-For/-Proto; 0 trusts no such header.
        self.TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
        # Real sender numbers talk to Meta's Graph API; the sandbox sender to the sandbox process.
        self.META_GRAPH_URL = os.environ.get("META_GRAPH_URL", "https://graph.facebook.com")
        self.META_GRAPH_VERSION = os.environ.get("META_GRAPH_VERSION", "v23.0")
        self.META_APP_SECRET = os.environ.get("META_APP_SECRET", "")
        self.META_VERIFY_TOKEN = os.environ.get("META_VERIFY_TOKEN", "")
        # The address customers reach the app at: tracked links in messages point to <PUBLIC_URL>/r/<code>, so it
        # must be public (https://broadcast.example.com). The default suits one machine: the launcher's port.
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL") or (
            f"http://127.0.0.1:{os.environ.get('BROADCASTER_PORT') or os.environ.get('PORT') or 8000}")
        self.SANDBOX_URL = os.environ.get("SANDBOX_URL", "http://127.0.0.1:8001")
        self.SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", True)
        self.DEFAULT_COUNTRY = os.environ.get("DEFAULT_COUNTRY", "US")
        self.TIMEZONE = os.environ.get("TIMEZONE", "UTC")
        # Sending: requests in flight per dispatcher, dispatchers per campaign, the limiter's safety margin,
        # and how long to wait for a webhook before re-sending a message whose request timed out (it may have
        # been accepted) or whose sender died while its request may have been on its way.
        self.SEND_CONCURRENCY = env_int("SEND_CONCURRENCY", 64)
        self.DISPATCHERS_PER_CAMPAIGN = env_int("DISPATCHERS_PER_CAMPAIGN", 2)
        self.RATE_MARGIN_MS = env_int("RATE_MARGIN_MS", 20)
        # While Meta fails (5xx, timeouts) a number's rate is halved; it doubles back after each quiet interval.
        self.BREAKER_QUIET_SECONDS = float(os.environ.get("BREAKER_QUIET_SECONDS") or 5)
        self.UNKNOWN_DELIVERY_GRACE_SECONDS = env_int("UNKNOWN_DELIVERY_GRACE_SECONDS", 60)
        self.DISPATCH_SLICE_SECONDS = env_int("DISPATCH_SLICE_SECONDS", 30)
        # The first-slice guardrail (campaigns/guardrail.py): once every message of the slice has its outcome, the
        # rest waits this long after the slice's last send for the opt-outs that follow delivery; at most
        # GUARD_WAIT_SECONDS after it, whatever is still unknown.
        self.GUARD_SETTLE_SECONDS = float(os.environ.get("GUARD_SETTLE_SECONDS") or 60)
        self.GUARD_WAIT_SECONDS = float(os.environ.get("GUARD_WAIT_SECONDS") or 600)
        self.WORKER_CHECK_SECONDS = float(os.environ.get("WORKER_CHECK_SECONDS") or 5)  # pages' "is a worker up?"
        self.GRAPH_TIMEOUT_SECONDS = float(os.environ.get("GRAPH_TIMEOUT_SECONDS") or 20)
        self.RETRY_BASE_SECONDS = float(os.environ.get("RETRY_BASE_SECONDS") or 2)  # doubled per attempt, ≤ 60 s
        # Outbound events (webapp/events): how long a receiver may take to connect and to answer, and whether
        # endpoints may be http:// on loopback or private addresses (tests and local trials only: never in production).
        self.EVENTS_TIMEOUT_SECONDS = float(os.environ.get("EVENTS_TIMEOUT_SECONDS") or 5)
        self.EVENTS_ALLOW_PRIVATE = env_bool("EVENTS_ALLOW_PRIVATE")

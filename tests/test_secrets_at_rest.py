"""Sender access tokens and the webhook's credentials are stored encrypted with a key derived from SECRET_KEY;
`flask secrets rotate` re-encrypts them when that key changes, and a wrong key is named, never read as garbage."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests import factories
from tests.conftest import post
from webapp.encryption import SecretUnreadable
from webapp.extensions import db
from webapp.senders.models import Sender
from webapp.workspace.models import WorkspaceSettings

TOKEN = "EAAG-secret-token-123"
APP_SECRET = "0123456789abcdef-app-secret"
VERIFY_TOKEN = "verify-me-please"


def _stored(sql: str) -> str:
    """What the database itself holds, read past the models."""
    with db.engine.connect() as connection:
        return connection.scalar(text(sql))


def _store_secrets() -> None:
    factories.sender(access_token=TOKEN)
    settings = WorkspaceSettings.get()
    settings.meta_app_secret, settings.meta_verify_token = APP_SECRET, VERIFY_TOKEN
    db.session.commit()


def _read_secrets() -> tuple[str, str, str]:
    db.session.expire_all()
    settings = WorkspaceSettings.get()
    return db.session.scalar(db.select(Sender.access_token)), settings.meta_app_secret, settings.meta_verify_token


def test_the_database_holds_no_plaintext_token_or_app_secret(app):
    _store_secrets()

    raw = [_stored("SELECT access_token FROM senders"), _stored("SELECT meta_app_secret FROM workspace_settings"),
           _stored("SELECT meta_verify_token FROM workspace_settings")]
    assert not any(secret in value for value in raw for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN))
    assert _read_secrets() == (TOKEN, APP_SECRET, VERIFY_TOKEN)


def test_a_token_typed_on_the_sender_form_is_stored_encrypted(admin_client):
    post(admin_client, "/settings/senders/new", {
        "label": "Shop", "phone_number_id": "106540352242922", "waba_id": "102290129340398",
        "display_phone_number": "+56 9 1234 5678", "access_token": TOKEN, "throughput": "80",
        "messaging_limit": "2000"})

    assert TOKEN not in _stored("SELECT access_token FROM senders")
    assert _read_secrets()[0] == TOKEN


def test_a_changed_secret_key_is_named_not_read_as_garbage(app):
    _store_secrets()
    app.config["SECRET_KEY"] = "a-new-secret-key"

    with pytest.raises(SecretUnreadable) as unreadable:
        _read_secrets()
    assert "SECRET_KEY" in str(unreadable.value) and "flask --app app secrets rotate" in str(unreadable.value)


def test_rotate_re_encrypts_every_secret_with_the_new_key(app):
    _store_secrets()
    before = _stored("SELECT access_token FROM senders")
    app.config["SECRET_KEY"] = "a-new-secret-key"

    result = app.test_cli_runner().invoke(args=["secrets", "rotate"], env={"OLD_SECRET_KEY": "test-secret-key"})

    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 secrets" in result.output
    assert _read_secrets() == (TOKEN, APP_SECRET, VERIFY_TOKEN)
    assert _stored("SELECT access_token FROM senders") != before
    app.config["SECRET_KEY"] = "test-secret-key"  # the old key no longer opens them
    with pytest.raises(SecretUnreadable):
        _read_secrets()


def test_rotate_with_a_wrong_old_key_says_so_and_changes_nothing(app):
    _store_secrets()
    before = _stored("SELECT access_token FROM senders")
    app.config["SECRET_KEY"] = "a-new-secret-key"

    result = app.test_cli_runner().invoke(args=["secrets", "rotate", "--old-key", "not-the-old-key"])

    assert result.exit_code == 1
    assert "opens with neither the current SECRET_KEY nor the old key" in result.output
    assert "Traceback" not in result.output
    assert _stored("SELECT access_token FROM senders") == before


def test_rotate_twice_is_harmless(app):
    _store_secrets()
    app.config["SECRET_KEY"] = "a-new-secret-key"
    runner = app.test_cli_runner()

    for _ in range(2):
        assert runner.invoke(args=["secrets", "rotate", "--old-key", "test-secret-key"]).exit_code == 0
    assert _read_secrets() == (TOKEN, APP_SECRET, VERIFY_TOKEN)


def test_the_migration_encrypts_secrets_stored_before_it_and_its_downgrade_gives_them_back(tmp_path, redis_url):
    from webapp import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}",
                      "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret-key",
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SANDBOX_ENABLED": False})
    with app.app_context():
        upgrade(revision="3f2c9a4e7b1d")  # the schema before secrets were encrypted
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO senders (label, phone_number_id, waba_id, display_phone_number, access_token, "
                "throughput, is_sandbox, created_at) VALUES ('Old', '1', '2', '', :token, 80, 0, '2026-01-01')"),
                {"token": TOKEN})
            connection.execute(text(
                "INSERT INTO workspace_settings (id, business_name, default_country, timezone, meta_app_secret, "
                "meta_verify_token, attribution_hours, opt_out_keywords, send_attempts) "
                "VALUES (1, 'Shop', 'US', 'UTC', :secret, '', 72, 'STOP', 5)"), {"secret": APP_SECRET})

        upgrade()
        assert TOKEN not in _stored("SELECT access_token FROM senders")
        assert APP_SECRET not in _stored("SELECT meta_app_secret FROM workspace_settings")
        assert _read_secrets() == (TOKEN, APP_SECRET, "")  # an unset verify token stays unset

        db.session.remove()
        downgrade(revision="3f2c9a4e7b1d")
        assert _stored("SELECT access_token FROM senders") == TOKEN
        assert _stored("SELECT meta_app_secret FROM workspace_settings") == APP_SECRET
        db.session.remove()
        db.engine.dispose()


def test_make_run_with_a_changed_secret_key_says_what_to_do(app):
    from webapp.launcher import StartupError, prepare

    _store_secrets()
    app.config.update(SECRET_KEY="a-new-secret-key", SANDBOX_ENABLED=True)

    with pytest.raises(StartupError) as refused:
        prepare(app, "8000")
    assert "flask --app app secrets rotate" in str(refused.value)

"""Login throttling: per account and address, exact under concurrency, never a lock-out of the owner."""
from __future__ import annotations

import hashlib
import threading

import pytest

from tests.conftest import PASSWORD, _config, csrf_token, login, post

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

OWNER, STRANGER, PROXY = "198.51.100.7", "203.0.113.9", "127.0.0.1"


@pytest.fixture
def password_checks(monkeypatch):
    """How many passwords were hashed (werkzeug hashes with hashlib's scrypt, or pbkdf2_hmac as the suite is
    configured), counted across threads."""
    calls = []

    def counting(real):
        def hashing(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)
        return hashing

    for name in ("scrypt", "pbkdf2_hmac"):
        monkeypatch.setattr(hashlib, name, counting(getattr(hashlib, name)))
    return calls


def client_at(app, address: str, **headers):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, **{f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return client


def test_concurrent_wrong_passwords_check_at_most_the_limit(app, admin, password_checks):
    limit = app.config["LOGIN_MAX_FAILURES"]
    clients = [client_at(app, STRANGER) for _ in range(64)]
    tokens = [csrf_token(c) for c in clients]  # every attacker has a session and a form, as a script would
    start = threading.Barrier(len(clients))
    statuses, email = [], admin.email

    def attack(client, token):
        start.wait()
        response = client.post("/login", data={"email": email, "password": "not the password",
                                                "csrf_token": token})
        statuses.append(response.status_code)

    password_checks.clear()
    threads = [threading.Thread(target=attack, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(password_checks) <= limit
    assert sorted(statuses) == [200] * limit + [429] * (len(clients) - limit)


def test_a_locked_account_still_lets_its_owner_in_from_another_address(app, admin):
    stranger = client_at(app, STRANGER)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(stranger, admin.email, "not the password")
    assert login(stranger, admin.email).status_code == 429  # the stranger waits, even with the password

    assert login(client_at(app, OWNER), admin.email).status_code == 302


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(app, admin):
    """Without TRUSTED_PROXY_HOPS, a client cannot pretend to be a fresh address to get more tries."""
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client_at(app, STRANGER, x_forwarded_for=f"10.0.0.{attempt}"), admin.email, "not the password")
    assert login(client_at(app, STRANGER, x_forwarded_for="10.9.9.9"), admin.email).status_code == 429


def test_behind_a_trusted_proxy_one_clients_failures_lock_out_nobody_else(app, admin, staff, migrated,
                                                                           redis_url, session_folder):
    from webapp import create_app

    proxied = create_app({**_config(migrated, redis_url, session_folder), "TRUSTED_PROXY_HOPS": 1,
                          "LOGIN_MAX_FAILURES": 2})
    proxied.test_client_class = app.test_client_class
    stranger = client_at(proxied, PROXY, x_forwarded_for=STRANGER)
    for attempt in range(4):  # many failures from one address, as a guessing script makes
        login(stranger, f"guess{attempt}@example.com", "not the password")
        login(stranger, admin.email, "not the password")
    assert login(stranger, admin.email).status_code == 429

    # Every request comes from the proxy's address; X-Forwarded-For tells the clients apart.
    assert login(client_at(proxied, PROXY, x_forwarded_for=OWNER), admin.email).status_code == 302
    assert login(client_at(proxied, PROXY, x_forwarded_for="192.0.2.44"), staff.email).status_code == 302


def test_an_unknown_email_costs_the_same_password_check_as_a_wrong_password(app, admin, staff, password_checks):
    from webapp.extensions import db

    client = client_at(app, OWNER)
    login(client, "warm-up@example.com", "not the password")  # a process hashes its stand-in once, up front

    def checks_for(email: str) -> int:
        password_checks.clear()
        assert "do not match an active account" in login(client, email, "not the password").get_data(as_text=True)
        return len(password_checks)

    staff.active = False
    db.session.commit()
    assert checks_for("nobody@example.com") == checks_for(admin.email) == checks_for(staff.email) == 1

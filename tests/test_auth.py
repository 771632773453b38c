"""Staff accounts: setup, login, roles, CSRF, throttling, safe redirects."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token, login, post

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

PAGES_FOR_STAFF = ["/", "/settings/", "/settings/users"]


def test_a_visitor_is_sent_to_setup_until_the_first_admin_exists(client):
    assert client.get("/").headers["Location"].endswith("/setup")
    response = post(client, "/setup", {
        "business_name": "Café Lumière", "name": "Ada", "email": "Ada@Example.com",
        "password": PASSWORD, "confirm": PASSWORD,
    })
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Dashboard" in page and "Café Lumière" in page


def test_the_setup_page_is_gone_once_a_user_exists(client, admin):
    assert client.get("/setup").status_code == 404
    response = client.post("/setup", data={"email": "evil@example.com", "password": "x" * 12})
    assert response.status_code in (400, 404)
    from webapp.auth.models import User
    from webapp.extensions import db

    assert db.session.query(User).count() == 1


def test_setup_rejects_mismatched_passwords_with_a_field_error(client):
    response = post(client, "/setup", {"business_name": "Shop", "email": "a@example.com",
                                       "password": PASSWORD, "confirm": PASSWORD + "!"})
    assert response.status_code == 200
    assert "The passwords differ." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES_FOR_STAFF + ["/settings/users/1/password"])
def test_every_page_requires_login(client, admin, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_htmx_request_without_a_session_gets_401_not_a_login_page(client, admin):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401


def test_staff_cannot_reach_admin_pages(staff_client):
    assert staff_client.get("/").status_code == 200
    for path in ("/settings/", "/settings/users"):
        assert staff_client.get(path).status_code == 403
    assert post(staff_client, "/settings/users", {"email": "x@example.com", "password": PASSWORD,
                                                  "role": "admin"}).status_code == 403


def test_staff_do_not_see_the_settings_link(staff_client):
    assert "Settings" not in staff_client.get("/").get_data(as_text=True)


def test_a_form_post_without_a_csrf_token_is_refused(admin_client):
    response = admin_client.post("/settings/users", data={"email": "new@example.com", "password": PASSWORD,
                                                          "role": "staff"})
    assert response.status_code == 400
    from webapp.auth.models import User
    from webapp.extensions import db

    assert db.session.query(User).filter_by(email="new@example.com").count() == 0


def test_login_with_a_wrong_password_gives_one_generic_message(client, admin):
    response = login(client, admin.email, "wrong password!")
    text = response.get_data(as_text=True)
    assert "do not match an active account" in text
    unknown = login(client, "nobody@example.com", "wrong password!").get_data(as_text=True)
    assert "do not match an active account" in unknown


def test_next_is_followed_only_to_local_paths(client, admin):
    token = csrf_token(client)
    evil = client.post("/login?next=https://evil.example/steal", data={
        "email": admin.email, "password": PASSWORD, "csrf_token": token})
    assert evil.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    for target in ("//evil.example", "/\\evil.example"):
        response = client.post(f"/login?next={target}", data={
            "email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    local = client.post("/login?next=/settings/users", data={
        "email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert local.headers["Location"] == "/settings/users"


def test_a_disabled_user_cannot_log_in_and_loses_open_sessions(app, admin_client, staff):
    from webapp.extensions import db

    other = app.test_client()
    assert login(other, staff.email).status_code == 302
    assert post(admin_client, f"/settings/users/{staff.id}/toggle").status_code == 302
    db.session.expire_all()
    assert other.get("/").status_code == 302  # the open session ended
    assert "do not match an active account" in login(other, staff.email).get_data(as_text=True)


def test_repeated_failures_slow_down_further_attempts(app, client, admin):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, admin.email, "not the password")
    response = login(client, admin.email, PASSWORD)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(client, admin):
    response = login(client, admin.email)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_admin_adds_a_user_who_can_then_log_in(app, admin_client):
    response = post(admin_client, "/settings/users", {"name": "Sam", "email": "sam@example.com",
                                                      "role": "staff", "password": PASSWORD})
    assert response.status_code == 302
    fresh = app.test_client()
    assert login(fresh, "sam@example.com").status_code == 302


def test_adding_a_user_with_a_short_password_shows_the_field_error(admin_client):
    response = post(admin_client, "/settings/users", {"email": "sam@example.com", "role": "staff", "password": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)


def test_reset_password_ends_the_users_sessions(app, admin_client, staff):
    other = app.test_client()
    login(other, staff.email)
    response = post(admin_client, f"/settings/users/{staff.id}/password", {"password": "a brand new password"})
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert login(app.test_client(), staff.email, "a brand new password").status_code == 302


def test_unknown_pages_show_a_friendly_404(admin_client):
    response = admin_client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_users_create_command_makes_an_admin(app, monkeypatch):
    monkeypatch.setenv("BROADCASTER_PASSWORD", PASSWORD)
    result = app.test_cli_runner().invoke(args=["users", "create", "--admin", "ops@example.com"])
    assert result.exit_code == 0, result.output
    assert "Created admin ops@example.com" in result.output
    again = app.test_cli_runner().invoke(args=["users", "create", "ops@example.com"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_a_real_configuration_stores_passwords_as_scrypt_hashes(app):
    # The suite runs with a cheap hash (tests/conftest.py); what a deployment stores is scrypt's.
    from webapp.auth.models import User
    from webapp.config import Config

    app.config["PASSWORD_HASH_METHOD"] = Config().PASSWORD_HASH_METHOD
    user = User(email="real@example.com", role="staff")
    user.set_password("a long real passphrase")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("a long real passphrase") and not user.check_password("a long real passphrasE")

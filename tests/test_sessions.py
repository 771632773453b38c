"""Sessions end when they should: logout and password changes end every session and remember-me cookie."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import PASSWORD, _config, csrf_token, login, post

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

NEW_PASSWORD = "tangerine kayak melody"


def remembered_login(client, email: str):
    return post(client, "/login", {"email": email, "password": PASSWORD, "remember": "y"})


def copy_of(app, client, *names: str):
    """Another browser holding stolen copies of the client's cookies."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def test_logging_out_ends_copies_of_the_session_and_remember_me_cookies(app, client, staff):
    assert remembered_login(client, staff.email).status_code == 302
    session_copy = copy_of(app, client, "session")
    remembered_copy = copy_of(app, client, "remember_token")
    assert session_copy.get("/").status_code == 200 and remembered_copy.get("/").status_code == 200

    post(client, "/logout")

    assert session_copy.get("/").status_code == 302
    assert remembered_copy.get("/").status_code == 302


def test_logging_out_ends_the_users_sessions_on_other_browsers_too(app, client, staff):
    laptop, phone = client, app.test_client()
    remembered_login(laptop, staff.email)
    remembered_login(phone, staff.email)
    post(laptop, "/logout")
    assert phone.get("/").status_code == 302


def test_changing_your_password_keeps_this_session_and_ends_every_other(app, client, staff):
    assert remembered_login(client, staff.email).status_code == 302
    other = app.test_client()
    remembered_login(other, staff.email)
    old_remember_cookie = copy_of(app, client, "remember_token")

    response = post(client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert copy_of(app, client, "remember_token").get("/").status_code == 200  # this browser is still remembered
    assert other.get("/").status_code == 302 and old_remember_cookie.get("/").status_code == 302
    assert login(app.test_client(), staff.email).status_code == 200  # the old password no longer opens it
    assert login(app.test_client(), staff.email, NEW_PASSWORD).status_code == 302


def test_the_account_menu_links_to_the_change_password_page(staff_client):
    page = staff_client.get("/").get_data(as_text=True)
    assert 'href="/account/password"' in page
    assert "Current password" in staff_client.get("/account/password").get_data(as_text=True)


def test_changing_the_password_needs_the_current_one(app, staff_client, staff):
    response = post(staff_client, "/account/password", {"current_password": "not my password", "password": NEW_PASSWORD,
                                                         "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "is not your current password" in response.get_data(as_text=True)
    assert login(app.test_client(), staff.email).status_code == 302  # unchanged


def test_changing_the_password_refuses_a_weak_one_and_changes_nothing(app, staff_client, staff):
    response = post(staff_client, "/account/password", {"current_password": PASSWORD, "password": "password123",
                                                         "confirm": "password123"})
    assert response.status_code == 422
    assert "one of the most common passwords" in response.get_data(as_text=True)
    assert staff_client.get("/").status_code == 200
    assert login(app.test_client(), staff.email).status_code == 302


def test_changing_the_password_without_a_csrf_token_is_refused(app, staff_client, staff):
    response = staff_client.post("/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                                             "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert login(app.test_client(), staff.email).status_code == 302


@pytest.fixture
def production(migrated, redis_url, session_folder, app, monkeypatch):
    from webapp import create_app

    monkeypatch.setenv("PRODUCTION", "1")
    return create_app({**_config(migrated, redis_url, session_folder), "TESTING": False})


def test_in_production_cookies_are_secure_remembered_two_weeks_and_https_is_enforced(production, staff):
    client = production.test_client()
    page = client.get("/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    response = client.post("/login", data={"email": staff.email, "password": PASSWORD, "remember": "y",
                                           "csrf_token": csrf_token(client)})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "Secure" in cookies["session"] and "Secure" in cookies["remember_token"]
    expires = parsedate_to_datetime(cookies["remember_token"].split("Expires=")[1].split(";")[0])
    assert abs(expires - datetime.now(timezone.utc) - timedelta(days=14)) < timedelta(minutes=5)


def test_outside_production_there_is_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers

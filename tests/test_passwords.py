"""Passwords too easy to guess are refused, with a message that says why, wherever a password is chosen."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, login, post
from webapp.auth.passwords import weakness

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

EMAIL = "maria.gonzalez@example.com"


@pytest.mark.parametrize("password, because", [
    ("short1!", "at least 10 characters"),
    ("1234567890", "most common passwords"),
    ("qwertyuiop", "most common passwords"),
    ("Password123", "most common passwords"),
    ("Welcome2024!", "most common passwords"),
    ("P@ssw0rd!!99", "most common passwords"),
    ("maria.gonzalez1", "“maria.gonzalez” from the email address"),
    ("i am gonzalez, hi", "“gonzalez” from the email address"),
    ("aaaaaaaaaaaa", "too little variety"),
    ("abab12abab12", "too little variety"),
    ("ghijklmnopqr", "too little variety"),
    ("mnbvcxzlkjhg", "too little variety"),  # the keyboard's rows, backwards
    ("violet harbour 9", None),
    (PASSWORD, None),
    ("tangerine kayak melody", None),
])
def test_weak_passwords_are_named_with_the_reason(password, because):
    found = weakness(password, EMAIL)
    assert (found is None) if because is None else (because in found), found


def test_an_admin_cannot_give_a_new_user_a_common_password(app, admin_client):
    response = post(admin_client, "/settings/users", {"email": "sam@example.com", "role": "staff",
                                                      "password": "Summer2024!"})
    assert response.status_code == 422
    assert "one of the most common passwords" in response.get_data(as_text=True)
    assert login(app.test_client(), "sam@example.com", "Summer2024!").status_code == 200  # no such account


def test_an_admin_cannot_reset_a_password_to_one_containing_the_users_name(app, admin_client, staff):
    response = post(admin_client, f"/settings/users/{staff.id}/password", {"password": "staff member 2024"})
    assert response.status_code == 422
    assert "“staff” from the email address" in response.get_data(as_text=True)
    assert login(app.test_client(), staff.email).status_code == 302  # the old password still works


def test_setup_refuses_a_weak_password_at_the_password_field(client):
    response = post(client, "/setup", {"business_name": "Shop", "email": "owner@example.com",
                                       "password": "1111111111", "confirm": "1111111111"})
    assert response.status_code == 200
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert client.get("/").headers["Location"].endswith("/setup")


def test_the_users_create_command_refuses_a_weak_password(app, monkeypatch):
    monkeypatch.setenv("BROADCASTER_PASSWORD", "letmein123")
    result = app.test_cli_runner().invoke(args=["users", "create", "ops@example.com"])
    assert result.exit_code != 0 and "most common passwords" in result.output


def test_an_owner_who_forgot_the_password_sets_a_new_one_at_the_shell(app, admin, monkeypatch):
    cli = app.test_cli_runner()
    monkeypatch.setenv("BROADCASTER_PASSWORD", "letmein123")
    refused = cli.invoke(args=["users", "set-password", admin.email])
    monkeypatch.setenv("BROADCASTER_PASSWORD", "violet lantern harbour")
    unknown = cli.invoke(args=["users", "set-password", "nobody@example.com"])
    changed = cli.invoke(args=["users", "set-password", admin.email.upper()])

    assert refused.exit_code != 0 and "most common passwords" in refused.output
    assert unknown.exit_code != 0 and "There is no account nobody@example.com." in unknown.output
    assert changed.exit_code == 0, changed.output
    assert login(app.test_client(), admin.email).status_code == 200  # the old password no longer works
    assert login(app.test_client(), admin.email, "violet lantern harbour").status_code == 302

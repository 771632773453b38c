"""API keys: admins create them in Settings (shown once, stored hashed), each request is checked, revoking is immediate."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from tests.conftest import post
from webapp.api.models import ApiKey
from webapp.extensions import db


def _key(name: str) -> ApiKey:
    db.session.expire_all()
    return db.session.scalar(select(ApiKey).where(ApiKey.name == name))


def test_an_admin_creates_a_key_that_is_shown_once_and_stored_hashed(admin_client):
    response = post(admin_client, "/settings/api-keys", {"name": "Shop backend", "scopes": ["lists:read",
                                                                                            "broadcasts:send"],
                                                         "rate_per_minute": "120"})

    page = response.get_data(as_text=True)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    key = _key("Shop backend")
    secret = page.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert secret.startswith(f"bk_{key.prefix}_") and len(secret) > 40
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (key.scopes, key.rate_per_minute) == (["lists:read", "broadcasts:send"], 120)
    listing = admin_client.get("/settings/api-keys").get_data(as_text=True)
    assert f"bk_{key.prefix}_…" in listing and secret not in listing and "never" in listing


def test_a_key_needs_a_name_and_a_scope(admin_client):
    response = post(admin_client, "/settings/api-keys", {"name": "", "rate_per_minute": "600"})
    no_scope = post(admin_client, "/settings/api-keys", {"name": "Nothing", "rate_per_minute": "600"})

    assert response.status_code == 422
    assert no_scope.status_code == 422 and "at least one scope" in no_scope.get_data(as_text=True)
    assert _key("Nothing") is None


def test_staff_cannot_manage_keys(staff_client):
    assert staff_client.get("/settings/api-keys").status_code == 403
    assert post(staff_client, "/settings/api-keys", {"name": "x", "scopes": ["lists:read"]}).status_code == 403


def test_the_key_works_records_its_last_use_and_is_refused_at_once_when_revoked(admin_client, api_as, new_key):
    secret = new_key(["lists:read"], name="Reporting")
    api = api_as(secret)

    assert api.get("/lists").status_code == 200
    key = _key("Reporting")
    assert key.last_used_at is not None
    assert "Reporting" in admin_client.get("/settings/api-keys").get_data(as_text=True)

    revoked = post(admin_client, f"/settings/api-keys/{key.id}/revoke")
    refused = api.get("/lists")

    assert revoked.status_code == 302
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (401, "invalid_api_key")
    assert "revoked" in refused.get_json()["error"]["message"]


def test_a_missing_or_unknown_key_is_401(api_as, new_key):
    real = new_key()

    missing = api_as(None).get("/lists")
    unknown = api_as("bk_00000000_" + "x" * 43).get("/lists")
    tampered = api_as(real[:-2] + ("AA" if not real.endswith("AA") else "BB")).get("/lists")
    garbage = api_as("hello").get("/lists")

    assert (missing.status_code, missing.get_json()["error"]["code"]) == (401, "missing_api_key")
    for response in (unknown, tampered, garbage):
        assert (response.status_code, response.get_json()["error"]["code"]) == (401, "invalid_api_key")


def test_the_reference_page_is_for_logged_in_staff(client, staff_client):
    page = staff_client.get("/api/v1/docs/")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "POST /api/v1/broadcasts/{broadcast_id}/recipients" in text and "broadcasts:send" in text
    staff_client.post("/logout", data={})
    from tests.conftest import csrf_token

    client.post("/logout", data={"csrf_token": csrf_token(client)})
    anonymous = client.get("/api/v1/docs/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

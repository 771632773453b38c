"""What every compat API shares: off until an admin enables it (404 in the API's own envelope), our keys in each
API's header form with their scopes, JSON errors in its shape, its OpenAPI document, and the stable public UUIDs
our own API shows too."""
from __future__ import annotations

import re
import uuid

import pytest

from tests import factories
from tests.api.conftest import make_key
from tests.compat.contract import Answer
from tests.conftest import post
from webapp.api import keys
from webapp.compat.blueprint import APIS
from webapp.contacts.models import ContactList
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

# The quick tests of the floor: no worker; they read and write little, SQLite is enough.
pytestmark = pytest.mark.only_on("sqlite")


def test_an_admin_enables_each_api_in_settings_and_until_then_it_answers_404_in_its_own_envelope(
        admin_client, client, staff):
    key = make_key(["broadcasts:send"])
    off = client.get("/compat/wacrm/api/v1/broadcasts/x", headers={"Authorization": f"Bearer {key}"})
    assert off.status_code == 404 and "not enabled" in off.get_json()["error"]
    assert client.get("/compat/wask/sessions/s/broadcasts").get_json()["success"] is False  # wask's envelope

    page = admin_client.get("/settings/api-keys").get_data(as_text=True)
    assert not re.search(r'name="apis"[^>]*checked', page)  # off by default
    answer = post(admin_client, "/settings/api-keys/compat", {"apis": ["wacrm", "kapso"]}, follow_redirects=True)
    assert "/compat/wacrm, /compat/kapso answer now." in answer.get_data(as_text=True)
    assert WorkspaceSettings.get().compat_apis == ["wacrm", "kapso"]
    on = client.get("/compat/wacrm/api/v1/broadcasts/x", headers={"Authorization": f"Bearer {key}"})
    assert (on.status_code, on.get_json()) == (404, {"error": "There is no broadcast with this id."})

    post(admin_client, "/settings/api-keys/compat", {"apis": ["nonsense"]})  # not a choice: nothing changes
    assert WorkspaceSettings.get().compat_apis == ["wacrm", "kapso"]
    admin_client.get("/logout")


def test_staff_cannot_switch_apis(staff_client):
    assert post(staff_client, "/settings/api-keys/compat", {"apis": ["wask"]}).status_code == 403
    assert WorkspaceSettings.get().compat_apis == []


def test_keys_travel_in_each_apis_header_form_and_need_the_scope(compat):
    wacrm = compat("wacrm", key=None)
    assert wacrm.call("GET", "/api/v1/broadcasts/x").body == {
        "error": "Send an API key in the Authorization: Bearer <key> header. Admins create keys in Settings → API keys."}
    reader = make_key(["broadcasts:read"])
    wacrm.headers = {"X-API-Key": reader}  # our own header form is not Wacrm's
    assert wacrm.call("GET", "/api/v1/broadcasts/x").status == 401
    wacrm.headers = {"Authorization": f"Bearer {reader}"}
    refused = wacrm.call("GET", "/api/v1/broadcasts/x")
    assert (refused.status, refused.body) == (403, {"error": "This key does not have the broadcasts:send scope."})
    assert refused.headers["X-RateLimit-Limit"] == str(keys.DEFAULT_RATE)
    keys.revoke(db.session, keys.find(db.session, reader))
    db.session.commit()
    assert wacrm.call("GET", "/api/v1/broadcasts/x").body == {"error": "This API key was revoked."}


def test_bad_json_unknown_paths_and_methods_answer_in_the_apis_envelope(compat, client):
    wacrm = compat("wacrm")
    assert wacrm.call("POST", "/api/v1/broadcasts", raw=b"{not json").body["error"].startswith(
        "The body is not valid JSON")
    assert wacrm.call("POST", "/api/v1/broadcasts", [1, 2]).body == {"error": "The body must be a JSON object."}
    missing = wacrm.call("POST", "/api/v1/broadcasts", {"recipients": []})
    assert missing.status == 400 and "template_name" in missing.body["error"]
    unknown = client.get("/compat/wacrm/api/v2/else", headers=wacrm.headers)
    assert (unknown.status_code, unknown.get_json()["error"]) == (
        404, "There is no /compat/wacrm/api/v2/else; the reference is at /compat/wacrm/openapi.json.")
    wrong = client.delete("/compat/wacrm/api/v1/broadcasts", headers=wacrm.headers)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")


def test_every_api_serves_a_valid_openapi_document(compat):
    for api in APIS:
        client = compat(api.name)  # Contract validates the document against OpenAPI 3.1
        assert client.contract.document["servers"][0]["url"].endswith(f"/compat/{api.name}")
        assert all(operation["x-scope"] for path in client.contract.document["paths"].values()
                   for operation in path.values())


def test_public_ids_are_stable_uuids_shown_by_our_api(app, api):
    sender = factories.sender()
    template = factories.template()
    listed = ContactList(name="Friends")
    db.session.add(listed)
    db.session.commit()
    assert isinstance(listed.public_id, uuid.UUID) and listed.public_id != sender.public_id

    lists = api.get("/lists").get_json()["data"]
    assert lists[0]["uuid"] == str(listed.public_id)
    assert api.get(f"/lists/{listed.id}").get_json()["data"]["uuid"] == str(listed.public_id)
    assert api.get("/senders").get_json()["data"][0]["uuid"] == str(sender.public_id)
    assert api.get("/templates").get_json()["data"][0]["uuid"] == str(template.public_id)
    created = api.post("/broadcasts", {"template_name": "order_update", "recipients": ["+14155550100"],
                                       "template_parameters": ["Ann", "A1"]}).get_json()["data"]
    assert uuid.UUID(created["uuid"]) and api.get(f"/broadcasts/{created['id']}").get_json()["data"]["uuid"] == \
        created["uuid"]
    written = api.post("/contacts", {"contacts": [{"phone_number": "+14155550100"}]}).get_json()
    contact = api.get(f"/contacts/{written['data']['results'][0]['id']}").get_json()["data"]
    assert uuid.UUID(contact["uuid"]) != uuid.UUID(created["uuid"])

"""What every endpoint does alike: JSON errors with stable codes, scopes, the per-key rate, idempotent retries."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.api.keys import IMPLIED
from webapp.api.models import SCOPES, IdempotentResponse
from webapp.api.views import api as declared
from webapp.campaigns.models import Campaign
from webapp.extensions import db


def _campaigns() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Campaign))


def test_malformed_json_is_400_invalid_json(api):
    response = api.post("/lists", raw=b'{"name": "VIP",')

    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "invalid_json")


def test_a_body_that_is_not_an_object_is_400(api):
    response = api.post("/lists", ["VIP"])

    assert (response.status_code, response.get_json()["error"]["details"][0]["field"]) == (400, "(body)")


def test_unknown_paths_and_methods_answer_json(api):
    missing = api.get("/nothing/here")
    wrong = api.delete("/dashboard")

    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "not_found")
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (405, "method_not_allowed")
    assert wrong.headers["Allow"] == "GET"


def test_posts_need_no_csrf_token(app, api, client):
    app.config["WTF_CSRF_ENABLED"] = True

    assert api.post("/lists", {"name": "VIP"}).status_code == 201


SAMPLE_ARGS = {"int": "1", "string": "+14155550100"}


def _path(operation) -> str:
    path = operation.openapi_path
    for name, kind in operation.path_parameters():
        path = path.replace("{" + name + "}", SAMPLE_ARGS.get(kind, "1"))
    return path


@pytest.mark.parametrize("operation", [op for op in declared.operations if op.scope], ids=lambda op: op.name)
def test_every_endpoint_refuses_a_key_without_its_scope(api_as, new_key, operation):
    implied_by = {read: write for write, reads in IMPLIED.items() for read in reads}
    others = [s for s in SCOPES if s not in (operation.scope, implied_by.get(operation.scope))]
    client = api_as(new_key(others))

    response = client.request(operation.method, _path(operation), {} if operation.body else None)

    assert response.status_code == 403
    assert response.get_json()["error"]["details"]["required"] == operation.scope


def test_a_write_scope_includes_reading(api_as, new_key):
    client = api_as(new_key(["lists:write", "broadcasts:send"]))

    assert client.get("/lists").status_code == 200
    assert client.get("/broadcasts").status_code == 200


def test_past_its_rate_a_key_gets_429_with_retry_after(api_as, new_key):
    slow = api_as(new_key(rate=3))
    other = api_as(new_key())

    answers = [slow.get("/lists") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[-1]
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert refused.get_json()["error"]["details"]["retry_after"] == int(refused.headers["Retry-After"])
    assert other.get("/lists").status_code == 200


def test_a_retried_post_with_the_same_idempotency_key_creates_nothing_new(api, templates):
    body = {"template_name": "order_update", "template_parameters": ["a", "b"], "recipients": ["+14155550100"]}
    headers = {"Idempotency-Key": "order-42"}

    first = api.post("/broadcasts", body, headers=headers)
    again = api.post("/broadcasts", {**body}, headers=headers)
    changed = api.post("/broadcasts", {**body, "name": "Other"}, headers=headers)
    fresh = api.post("/broadcasts", body, headers={"Idempotency-Key": "order-43"})

    assert first.status_code == 201 and again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert (changed.status_code, changed.get_json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert fresh.get_json()["data"]["id"] != first.get_json()["data"]["id"]
    assert _campaigns() == 2


def test_an_error_answer_is_replayed_too_and_a_key_expires_after_24_hours(api, templates):
    headers = {"Idempotency-Key": "k1"}
    refused = api.post("/broadcasts", {"template_name": "nope"}, headers=headers)
    replayed = api.post("/broadcasts", {"template_name": "nope"}, headers=headers)
    stored = db.session.scalar(select(IdempotentResponse).where(IdempotentResponse.key == "k1"))
    stored.created_at -= timedelta(hours=25)
    stored.request_hash = "0" * 64
    db.session.commit()

    later = api.post("/broadcasts", {"template_name": "order_update"}, headers=headers)

    assert refused.status_code == replayed.status_code == 422
    assert replayed.get_json() == refused.get_json()
    assert later.status_code == 201


def test_a_key_being_answered_is_409_and_a_server_error_frees_it(app, api, templates, client, monkeypatch):
    from webapp.api import keys

    key = keys.find(db.session, api.key)
    db.session.add(IdempotentResponse(api_key_id=key.id, key="busy", request_hash="x" * 64, status_code=0, body=""))
    db.session.commit()
    busy = api.post("/broadcasts", {"template_name": "order_update"}, headers={"Idempotency-Key": "busy"})
    assert (busy.status_code, busy.get_json()["error"]["code"]) == (409, "idempotency_in_progress")

    from webapp.campaigns import services

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "save_draft", broken)
    failed = client.post("/api/v1/broadcasts", json={"template_name": "order_update"},
                         headers={"X-API-Key": api.key, "Idempotency-Key": "retry-me"})
    monkeypatch.undo()
    retried = api.post("/broadcasts", {"template_name": "order_update"}, headers={"Idempotency-Key": "retry-me"})

    assert (failed.status_code, failed.get_json()["error"]["code"]) == (500, "internal_error")
    assert retried.status_code == 201

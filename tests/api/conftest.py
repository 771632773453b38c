"""API tests: keys made as Settings makes them, and a client that checks every answer against the OpenAPI document."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from webapp.api import keys
from webapp.api.models import SCOPES
from webapp.extensions import db

# (operation name, status) of every answer the API gave in this test session, checked against the document.
SEEN: set[tuple[str, int]] = set()


class ApiClient:
    """JSON requests with an API key; each answer must match what the OpenAPI document says of it."""

    def __init__(self, client, app, key: str | None) -> None:
        self.client, self.app, self.key = client, app, key

    def request(self, method: str, path: str, body=None, *, raw: bytes | None = None, headers: dict | None = None,
                key: str | None = "default", **query):
        sent = {"Content-Type": "application/json", **(headers or {})}
        key = self.key if key == "default" else key
        if key is not None:
            sent["X-API-Key"] = key
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.open(f"/api/v1{path}", method=method, data=data, headers=sent,
                                    query_string={k: v for k, v in query.items() if v is not None})
        check_answer(self.app, method, response.request.path, response.status_code, response.mimetype,
                     response.get_json(silent=True))
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def check_answer(app, method: str, path: str, status: int, mimetype: str, body) -> None:
    """The answer's status is one the document lists for the operation, and its body fits that status's schema."""
    from webapp.api.schemas import SCHEMAS, root
    from webapp.api.views import api

    endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    operations = {op.name: op for op in api.operations}
    name = endpoint.split(".", 1)[1]
    if name == "unknown":  # the catch-all answers documented errors only
        assert status in (404, 405)
        schema = "Error"
    else:
        operation = operations[name]
        statuses = operation.statuses
        assert status in statuses, f"{method} {path} answered {status}, not in the document: {sorted(statuses)}"
        schema = statuses[status]
        SEEN.add((name, status))
    if schema is None:
        return
    assert mimetype == "application/json", f"{method} {path} answered {mimetype}"
    errors = sorted(Draft202012Validator(root(SCHEMAS[schema])).iter_errors(body), key=str)
    assert not errors, f"{method} {path} {status} does not match {schema}: {errors[0]}"


def make_key(scopes=SCOPES, rate: int = keys.DEFAULT_RATE, name: str = "Test program") -> str:
    created = keys.create(db.session, name, list(scopes), rate)
    db.session.commit()
    return created.secret


@pytest.fixture
def new_key(app):
    return make_key


@pytest.fixture
def api(app, client):
    """A client with a key holding every scope."""
    return ApiClient(client, app, make_key())


@pytest.fixture
def api_as(app, client):
    """api_as(key) — the same client with another key (or None for none)."""
    return lambda key: ApiClient(client, app, key)


@pytest.fixture
def sender(app):
    return factories.sender()


@pytest.fixture
def templates(sender):
    """order_update (positional, 2 body values), promo (named, text header), and invoice (document header)."""
    positional = factories.template()
    named = factories.template(name="promo", language="en", parameter_format="NAMED", category="MARKETING",
                               components=[{"type": "HEADER", "format": "TEXT", "text": "Our {{season}} sale"},
                                           {"type": "BODY", "text": "Hi {{first_name}}, take {{discount}} off."}])
    document = factories.template(name="invoice", components=[{"type": "HEADER", "format": "DOCUMENT"},
                                                              {"type": "BODY", "text": "Invoice {{1}}"}])
    db.session.commit()
    return {"positional": positional, "named": named, "document": document}

"""The webhook's front door (webapp/webhooks/front.py): it answers Meta's POSTs before Flask exactly as Flask's view
does, and hands the view whatever it should not answer itself, body and all."""
from __future__ import annotations

import http.client
import io
import logging

import pytest
from flask import request_started
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.extensions import db
from webapp.webhooks import ingest, receipt
from webapp.webhooks.models import WebhookEvent


@pytest.fixture
def flask_requests(app):
    """The requests that reached Flask's request machinery (the front door answers without it)."""
    seen = []

    def record(sender, **extra):
        from flask import request
        seen.append((request.method, request.path))

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def _view_client(app) -> Client:
    """A client of the app behind the front door: Flask's view answers every webhook POST."""
    return Client(app.wsgi_app.app)


def _stored_bodies() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookEvent.body).order_by(WebhookEvent.id)))


def _answer(response) -> tuple[str, bytes, list]:
    """Status line, body and headers, but `Vary: Cookie`: Flask's session adds it, the front door reads no cookie."""
    return response.status, response.get_data(), sorted((name, value) for name, value in response.headers.items()
                                                         if (name, value) != ("Vary", "Cookie"))


def _cases(rows) -> dict[str, tuple[bytes, dict]]:
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    oversize = meta.statuses(meta.status("wamid.x", "sent", T0))
    oversize["padding"] = "x" * (3 * 1024 * 1024)
    big = meta.body_of(oversize)
    malformed = b'{"object": "whatsapp_business_account", "entry": ['
    return {
        "stored": (body, {"X-Hub-Signature-256": meta.signature(body)}),
        "another secret": (body, {"X-Hub-Signature-256": meta.signature(body, "not-our-secret")}),
        "no signature": (body, {}),
        "a bad header": (body, {"X-Hub-Signature-256": "md5=" + "0" * 32}),
        "over 3 MB": (big, {"X-Hub-Signature-256": meta.signature(big)}),
        "malformed JSON": (malformed, {"X-Hub-Signature-256": meta.signature(malformed)}),
        "not an object": (b"[1, 2]", {"X-Hub-Signature-256": meta.signature(b"[1, 2]")}),
    }


@pytest.mark.parametrize("case", ["stored", "another secret", "no signature", "a bad header", "over 3 MB",
                                  "malformed JSON", "not an object"])
def test_the_front_door_answers_each_post_exactly_as_the_view(app, client, webhook, flask_requests, case):
    campaign, rows = accepted_campaign(1)
    body, headers = _cases(rows)[case]
    front = client.post("/webhooks/meta", data=body, content_type="application/json", headers=headers)
    assert flask_requests == []  # answered before Flask
    view = _view_client(app).post("/webhooks/meta", data=body, content_type="application/json", headers=headers)
    assert flask_requests == [("POST", "/webhooks/meta")]
    assert _answer(front) == _answer(view)
    expected = {"stored": 200, "over 3 MB": 413, "malformed JSON": 400, "not an object": 400}.get(case, 403)
    assert front.status_code == expected
    assert front.headers["X-Frame-Options"] == "DENY"  # the security headers, as every answer
    assert _stored_bodies() == ([body.decode()] * 2 if case == "stored" else [])


def test_a_post_that_could_not_be_stored_gets_503_so_that_meta_retries(app, client, webhook, monkeypatch):
    def database_down(session, bodies):
        raise OperationalError("INSERT INTO webhook_events", {}, Exception("disk I/O error"))

    monkeypatch.setattr(ingest, "record_events", database_down)
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    for door in (client, _view_client(app)):
        response = door.post("/webhooks/meta", data=body, content_type="application/json",
                             headers={"X-Hub-Signature-256": meta.signature(body)})
        assert (response.status_code, response.get_data()) == (503, b"Not stored; please retry")
    assert _stored_bodies() == []


def test_a_body_of_unknown_length_is_verified_and_stored_by_the_view(client, webhook, flask_requests):
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    # As gunicorn hands on a chunked POST: no Content-Length, the stream ends where the body does.
    response = client.post("/webhooks/meta", input_stream=io.BytesIO(body), content_type="application/json",
                           headers={"X-Hub-Signature-256": meta.signature(body), "Transfer-Encoding": "chunked"},
                           environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True})
    assert response.status_code == 200
    assert flask_requests == [("POST", "/webhooks/meta")]
    assert _stored_bodies() == [body.decode()]


def test_a_post_the_front_door_failed_on_is_handed_to_the_view_with_its_body(client, webhook, flask_requests,
                                                                              monkeypatch, caplog):
    real = receipt.app_secret
    calls = []

    def unreachable_once():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT meta_app_secret", {}, Exception("database is locked"))
        return real()

    monkeypatch.setattr(receipt, "app_secret", unreachable_once)
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    with caplog.at_level(logging.WARNING, logger="webapp.webhooks.front"):
        response = meta.post(client, body)
    assert response.status_code == 200
    assert flask_requests == [("POST", "/webhooks/meta")]
    assert _stored_bodies() == [body.decode()]  # stored once, from the body the front door had read
    assert "handed a POST to the app" in caplog.text


def test_other_requests_to_the_webhook_address_go_to_flask(client, webhook, flask_requests):
    response = client.get("/webhooks/meta", query_string={
        "hub.mode": "subscribe", "hub.verify_token": meta.VERIFY_TOKEN, "hub.challenge": "7"})
    assert (response.status_code, response.get_data()) == (200, b"7")
    assert client.put("/webhooks/meta", data=b"{}").status_code == 405
    assert flask_requests == [("GET", "/webhooks/meta"), ("PUT", "/webhooks/meta")]


def test_a_post_on_a_kept_alive_connection_is_answered_at_once_by_a_server_that_does_not_bound_the_body(
        live_server, webhook):
    """werkzeug's server hands the socket itself to the app: reading past the Content-Length waited for the next
    request (the sandbox's webhooks, on kept-alive connections, were answered only when the client gave up)."""
    campaign, [row] = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(row), "sent", T0, wa_id(row), row_id=row.id)))
    host, port = live_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    for _ in range(2):  # the second on the same connection
        connection.request("POST", "/webhooks/meta", body, {"Content-Type": "application/json",
                                                            "X-Hub-Signature-256": meta.signature(body)})
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b"OK")
    connection.close()
    assert _stored_bodies() == [body.decode()] * 2

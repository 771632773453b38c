"""The webhook endpoint: Meta's handshake, signatures, limits, and events stored before they are applied."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, fresh, wa_id, wamid
from webapp.campaigns import statuses as status_module
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Recipient
from webapp.extensions import db
from webapp.webhooks import ingest
from webapp.webhooks.cli import webhooks_cli
from webapp.webhooks.models import WebhookEvent


def _events():
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_handshake_echoes_the_challenge_when_the_verify_token_matches(client, webhook):
    response = client.get("/webhooks/meta", query_string={
        "hub.mode": "subscribe", "hub.verify_token": meta.VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


def test_handshake_with_a_wrong_verify_token_is_refused(client, webhook):
    response = client.get("/webhooks/meta", query_string={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert response.status_code == 403
    assert "1158201444" not in response.get_data(as_text=True)


def test_secrets_from_the_environment_win_over_settings(app, client, webhook):
    app.config.update(META_APP_SECRET="from-the-environment", META_VERIFY_TOKEN="env-token")
    campaign, rows = accepted_campaign(1)
    update = meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0])))

    assert meta.post(client, update).status_code == 403  # signed with the Settings secret
    assert meta.post(client, update, secret="from-the-environment").status_code == 200
    handshake = {"hub.mode": "subscribe", "hub.challenge": "42"}
    assert client.get("/webhooks/meta", query_string={**handshake, "hub.verify_token": meta.VERIFY_TOKEN}).status_code == 403
    assert client.get("/webhooks/meta", query_string={**handshake, "hub.verify_token": "env-token"}).status_code == 200


def test_a_signature_made_with_another_secret_is_refused_and_changes_nothing(client, webhook):
    campaign, rows = accepted_campaign(1)
    response = meta.post(client, meta.statuses(meta.status(wamid(rows[0]), "read", T0, wa_id(rows[0]))),
                         secret="not-our-secret")
    assert response.status_code == 403
    assert _events() == []
    assert fresh(Recipient, rows[0].id).status == "sending"
    assert counts(db.session, campaign.id)["read"] == 0


def test_a_tampered_body_is_refused_and_changes_nothing(client, webhook):
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    tampered = body.replace(b'"sent"', b'"read"')
    response = client.post("/webhooks/meta", data=tampered, content_type="application/json",
                           headers={"X-Hub-Signature-256": meta.signature(body)})
    assert response.status_code == 403
    assert _events() == []
    assert fresh(Recipient, rows[0].id).status == "sending"


def test_a_post_without_a_signature_is_refused_and_changes_nothing(client, webhook):
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    response = client.post("/webhooks/meta", data=body, content_type="application/json")
    assert response.status_code == 403
    assert _events() == []
    assert fresh(Recipient, rows[0].id).status == "sending"


def test_without_any_app_secret_configured_every_post_is_refused(client, app):
    body = meta.body_of(meta.statuses())
    response = client.post("/webhooks/meta", data=body, content_type="application/json",
                           headers={"X-Hub-Signature-256": meta.signature(body, "")})
    assert response.status_code == 403


def test_a_body_over_3_mb_is_refused_with_413(client, webhook):
    payload = meta.statuses(meta.status("wamid.x", "sent", T0))
    payload["padding"] = "x" * (3 * 1024 * 1024)
    response = meta.post(client, payload)
    assert response.status_code == 413
    assert _events() == []


def test_malformed_json_is_refused_with_400(client, webhook):
    response = meta.post(client, b'{"object": "whatsapp_business_account", "entry": [')
    assert response.status_code == 400
    assert _events() == []


def test_a_valid_post_is_stored_raw_and_marked_applied(client, webhook):
    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0]))))
    assert meta.post(client, body).status_code == 200
    [event] = _events()
    assert event.body == body.decode()
    assert (event.status, event.attempts, event.error) == ("applied", 1, "")
    assert event.applied_at is not None


def test_events_for_another_phone_number_id_are_recorded_and_ignored(client, webhook):
    campaign, rows = accepted_campaign(1)
    payload = meta.statuses(meta.status(wamid(rows[0]), "read", T0, wa_id(rows[0]), row_id=rows[0].id),
                            phone_number_id="999999999999999")
    assert meta.post(client, payload).status_code == 200
    [event] = _events()
    assert event.status == "ignored"
    assert fresh(Recipient, rows[0].id).status == "sending"


def test_unknown_fields_and_status_kinds_are_ignored(client, webhook):
    campaign, rows = accepted_campaign(1)
    payload = meta.statuses(
        {**meta.status(wamid(rows[0]), "sent", T0, wa_id(rows[0])), "a_future_field": {"x": 1}},
        meta.status(wamid(rows[0]), "played", T0 + timedelta(seconds=5), wa_id(rows[0])))
    payload["entry"][0]["changes"].append({"field": "message_template_quality_update", "value": {"x": 1}})
    payload["entry"][0]["changes"][0]["value"]["something_new"] = [1, 2, 3]
    assert meta.post(client, payload).status_code == 200
    assert fresh(Recipient, rows[0].id).status == "sent"
    assert _events()[0].status == "applied"


def test_system_errors_without_statuses_are_recorded_on_the_event(client, webhook):
    factories.sender()
    db.session.commit()
    payload = meta.envelope("messages", {"errors": [{"code": 131000, "title": "Something went wrong",
                                                     "message": "Something went wrong",
                                                     "error_data": {"details": "Try again later"}}]})
    assert meta.post(client, payload).status_code == 200
    [event] = _events()
    assert event.status == "applied"
    assert "131000" in event.error and "Something went wrong" in event.error


def test_a_failure_while_applying_is_recorded_and_replayed_by_the_cli(app, client, webhook, monkeypatch):
    campaign, rows = accepted_campaign(2)
    payload = meta.statuses(*(meta.status(wamid(row), "delivered", T0, wa_id(row)) for row in rows))
    real = status_module.report

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(status_module, "report", broken)
    response = meta.post(client, payload)
    assert response.status_code == 200  # Meta is not asked to retry: the event is kept for replay
    [event] = _events()
    assert event.status == "failed" and "database hiccup" in event.error
    assert [fresh(Recipient, row.id).status for row in rows] == ["sending", "sending"]
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)

    monkeypatch.setattr(status_module, "report", real)
    result = app.test_cli_runner().invoke(webhooks_cli, ["replay", "--all-failed"])
    assert result.exit_code == 0, result.output
    assert f"event {event.id}: applied" in result.output
    [event] = _events()
    assert (event.status, event.attempts, event.error) == ("applied", 2, "")
    assert [fresh(Recipient, row.id).status for row in rows] == ["delivered", "delivered"]
    assert counts(db.session, campaign.id) == recount(db.session, campaign.id)


def test_replay_by_id_applies_an_event_again_without_changing_anything(app, client, webhook):
    campaign, rows = accepted_campaign(1)
    meta.post(client, meta.statuses(meta.status(wamid(rows[0]), "read", T0, wa_id(rows[0]))))
    before = counts(db.session, campaign.id)
    [event] = _events()
    result = app.test_cli_runner().invoke(webhooks_cli, ["replay", str(event.id)])
    assert result.exit_code == 0, result.output
    assert counts(db.session, campaign.id) == before == recount(db.session, campaign.id)


def test_replaying_an_unknown_event_says_so_and_fails(app):
    result = app.test_cli_runner().invoke(webhooks_cli, ["replay", "424242"])
    assert result.exit_code == 1
    assert "event 424242: not found" in result.output


def test_replay_without_ids_or_flags_explains_how_to_use_it(app):
    result = app.test_cli_runner().invoke(webhooks_cli, ["replay"])
    assert result.exit_code != 0
    assert "--all-failed" in result.output


def test_the_webhook_needs_no_login_or_csrf_token(client, webhook):
    payload = meta.statuses()
    response = meta.post(client, payload)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    assert json.loads(_events()[0].body) == payload


def test_events_left_received_by_a_stopped_process_are_replayed_with_unfinished(app, webhook):
    from webapp.timestamps import utcnow

    campaign, rows = accepted_campaign(1)
    body = meta.body_of(meta.statuses(meta.status(wamid(rows[0]), "delivered", T0, wa_id(rows[0]))))
    db.session.add_all([WebhookEvent(body=body.decode(), status="received", received_at=utcnow() - timedelta(minutes=10)),
                        WebhookEvent(body=body.decode(), status="received", received_at=utcnow())])
    db.session.commit()
    result = app.test_cli_runner().invoke(webhooks_cli, ["replay", "--unfinished"])
    assert result.exit_code == 0, result.output
    assert [event.status for event in _events()] == ["applied", "received"]  # a recent one may still be applying
    assert fresh(Recipient, rows[0].id).status == "delivered"


def test_the_sweep_command_reports_what_it_applied(app, webhook):
    result = app.test_cli_runner().invoke(webhooks_cli, ["sweep"])
    assert result.exit_code == 0 and "0 parked statuses applied" in result.output


def test_stopping_the_writer_applies_what_it_was_given_first(app, webhook):
    """What a test's teardown (or anyone taking the database away) relies on: no batch is left half-applied."""
    campaign, rows = accepted_campaign(3)
    bodies = [meta.body_of(meta.statuses(meta.status(wamid(row), "delivered", T0, wa_id(row), row_id=row.id)))
              for row in rows]
    tickets = [ingest.Ticket(body, json.loads(body)) for body in bodies]
    writer = ingest._writer(app)
    for ticket in tickets:
        writer.submit(ticket)
    ingest.stop(app)
    assert writer.thread is None and all(ticket.done.is_set() for ticket in tickets)
    assert [fresh(Recipient, row.id).status for row in rows] == ["delivered"] * 3

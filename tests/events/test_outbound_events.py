"""Outbound events: admins register an endpoint; statuses, replies, opt-outs and finished campaigns reach it as
signed JSON POSTs, retried with backoff, never following redirects nor going to private addresses."""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

import jobs.events
from jobs.clicks import count as count_queued_clicks
from tests.clock import Clock
from tests.conftest import ROOT_DIR, login, post
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, fresh, wa_id, wamid
from webapp.campaigns.dispatch import finish_if_done
from webapp.events.models import EVENT_TYPES, EventDelivery, EventEndpoint
from webapp.events.outbox import DELIVER_JOB
from webapp.extensions import db
from webapp.queues import queue


def register(client, url: str, types=tuple(EVENT_TYPES)):
    return post(client, "/settings/events", {"url": url, "description": "Shop backend", "event_types": list(types)})


def shown_secret(response) -> str:
    return re.search(r'<code id="endpoint-secret">([^<]+)</code>', response.get_data(as_text=True)).group(1)


def run_deliveries() -> list[str]:
    """Run the delivery jobs waiting on the queue, as a worker would."""
    waiting = queue()
    done = []
    for job in waiting.get_jobs():
        if job.func_name == DELIVER_JOB:
            waiting.remove(job)
            done.append(jobs.events.deliver(*job.args))
    return done


def signed_by(received, secret: str) -> bool:
    """The receiver's check as the README shows it (its Python example, run as written)."""
    readme = (ROOT_DIR / "README.md").read_text().split("## Outbound events", 1)[1]
    example = {}
    exec(readme.split("```python", 1)[1].split("```", 1)[0], example)
    return example["verified"](secret, received.body, received.headers["X-Broadcaster-Signature"])


def test_a_status_a_reply_an_opt_out_and_a_completion_reach_the_endpoint_signed(admin_client, webhook, receiver):
    answer = register(admin_client, receiver.url)
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    secret = shown_secret(answer)
    assert secret not in admin_client.get("/settings/events").get_data(as_text=True)  # shown once
    campaign, [row] = accepted_campaign(1)

    meta.post(admin_client, meta.statuses(meta.status(wamid(row), "sent", T0, wa_id(row), row_id=row.id)))
    meta.post(admin_client, meta.statuses(meta.status(wamid(row), "sent", T0, wa_id(row), row_id=row.id)))  # again
    meta.post(admin_client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=1), "STOP",
                                         context=wamid(row)))
    assert finish_if_done(campaign.id) == "sent"
    assert run_deliveries() == ["delivered"] * 4  # the duplicate status told nothing new

    events = {r.headers["X-Broadcaster-Event"]: (r, json.loads(r.body)) for r in receiver.received}
    assert sorted(events) == ["broadcast.completed", "contact.opted_out", "message.replied", "message.status"]
    assert all(signed_by(r, secret) and r.path == "/hooks" for r, _ in events.values())
    assert not signed_by(receiver.received[0], secret + "x")
    status = events["message.status"][1]
    assert status["type"] == "message.status" and len(status["id"]) == 36
    assert status["data"] == {"broadcast_id": campaign.id, "recipient_id": row.id, "phone": row.phone,
                              "wamid": wamid(row), "status": "sent", "at": "2026-11-23T12:00:00Z", "error": None}
    assert events["message.replied"][1]["data"]["text"] == "STOP"
    assert events["contact.opted_out"][1]["data"]["phone"] == row.phone
    assert events["broadcast.completed"][1]["data"]["status"] == "sent"
    first = events["message.status"][0]
    assert first.headers["X-Broadcaster-Delivery"] == str(
        db.session.scalar(select(EventDelivery.id).where(EventDelivery.type == "message.status")))

    log = admin_client.get("/settings/events?status=delivered&type=message.replied").get_data(as_text=True)
    rows = log.split('id="log-title"')[1].split("</form>")[1]
    assert "message.replied" in rows and "message.status" not in rows

    # A replay sends the same event again, as a new delivery; a rotated secret signs from then on.
    endpoint = db.session.scalar(select(EventEndpoint))
    rotated = shown_secret(post(admin_client, f"/settings/events/{endpoint.id}/rotate"))
    delivery_id = int(first.headers["X-Broadcaster-Delivery"])
    assert post(admin_client, f"/settings/events/deliveries/{delivery_id}/replay").status_code == 302
    assert run_deliveries() == ["delivered"]
    again = receiver.received[-1]
    assert again.body == first.body and again.headers["X-Broadcaster-Delivery"] != str(delivery_id)
    assert signed_by(again, rotated) and not signed_by(again, secret)


def test_an_opt_out_and_the_opt_in_keyword_after_it_reach_an_endpoint_that_wants_them(admin_client, webhook, receiver):
    assert register(admin_client, receiver.url, types=("contact.opted_out", "contact.opted_in")).status_code == 201
    campaign, [row] = accepted_campaign(1)
    meta.post(admin_client, meta.message("wamid.IN1", wa_id(row), T0 + timedelta(minutes=1), "STOP"))
    meta.post(admin_client, meta.message("wamid.IN2", wa_id(row), T0 + timedelta(days=1), "start"))
    assert run_deliveries() == ["delivered"] * 2
    data = {r.headers["X-Broadcaster-Event"]: json.loads(r.body)["data"] for r in receiver.received}
    assert data["contact.opted_out"]["reason"] == "STOP"
    assert (data["contact.opted_in"]["phone"], data["contact.opted_in"]["at"], data["contact.opted_in"]["reason"]) == (
        row.phone, "2026-11-24T12:00:00Z", "Wrote “start”")
    assert data["contact.opted_in"]["contact_id"] == data["contact.opted_out"]["contact_id"]


def test_a_click_on_a_tracked_link_reaches_the_endpoint_and_a_preview_does_not(admin_client, receiver):
    from tests.tracking.test_clicks import PHONE_BROWSER, SHOP, _campaign_with_links
    from webapp.campaigns.links import code_for

    register(admin_client, receiver.url, types=["link.clicked"])
    campaign, rows, body, _ = _campaign_with_links()
    code = code_for(body.id, rows[0].id)
    admin_client.get(f"/r/{code}", headers={"User-Agent": "WhatsApp/2.23.20.0 A"})
    admin_client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
    admin_client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
    count_queued_clicks()  # the worker's job counts the clicks the redirect queued, and emits their events
    run_deliveries()

    clicks = [json.loads(r.body)["data"] for r in receiver.received]
    assert [(c["broadcast_id"], c["recipient_id"], c["link"], c["url"], c["first"]) for c in clicks] == [
        (campaign.id, rows[0].id, "body:2", SHOP, True), (campaign.id, rows[0].id, "body:2", SHOP, False)]


def test_an_endpoint_hears_only_the_types_it_chose_and_a_test_event_on_demand(admin_client, webhook, receiver):
    register(admin_client, receiver.url, types=["broadcast.completed"])
    campaign, [row] = accepted_campaign(1)
    meta.post(admin_client, meta.statuses(meta.status(wamid(row), "delivered", T0, wa_id(row), row_id=row.id)))
    assert db.session.scalar(select(func.count()).select_from(EventDelivery)) == 0
    endpoint = db.session.scalar(select(EventEndpoint))
    assert post(admin_client, f"/settings/events/{endpoint.id}/test").status_code == 302
    assert run_deliveries() == ["delivered"]
    assert receiver.received[0].headers["X-Broadcaster-Event"] == "endpoint.test"

    edit = f"/settings/events/{endpoint.id}/edit"
    checked = re.findall(r'<input checked[^>]* value="([^"]+)"', admin_client.get(edit).get_data(as_text=True))
    assert checked == ["broadcast.completed"]
    refused = post(admin_client, edit, {"url": "ftp://example.com/", "event_types": ["message.status"]})
    assert refused.status_code == 422 and "must start with https://" in refused.get_data(as_text=True)
    assert fresh(EventEndpoint, endpoint.id).event_types == ["broadcast.completed"]  # nothing changed half-way
    assert post(admin_client, edit, {"url": receiver.url, "event_types": ["message.status"]}).status_code == 302
    meta.post(admin_client, meta.statuses(meta.status(wamid(row), "read", T0, wa_id(row), row_id=row.id)))
    assert run_deliveries() == ["delivered"]
    assert json.loads(receiver.received[-1].body)["data"]["status"] == "read"


def test_a_failing_endpoint_is_retried_with_backoff_and_disabled_after_a_day(admin_client, receiver, monkeypatch):
    clock = Clock(monkeypatch, T0)
    register(admin_client, receiver.url)
    endpoint = db.session.scalar(select(EventEndpoint))
    receiver.answers = [500, 503]
    post(admin_client, f"/settings/events/{endpoint.id}/test")
    assert run_deliveries() == ["pending"]
    delivery = db.session.scalar(select(EventDelivery))
    assert (delivery.attempts, delivery.response_code, delivery.next_attempt_at) == (1, 500, T0 + timedelta(seconds=30))
    scheduled = ScheduledJobRegistry(queue=queue())
    [job_id] = scheduled.get_job_ids()
    assert 25 <= scheduled.get_scheduled_time(job_id).timestamp() - time.time() <= 31  # RQ retries

    assert jobs.events.deliver(delivery.id) == "not due"  # a job run early (twice) sends nothing
    clock.set(T0 + timedelta(seconds=30))
    assert jobs.events.deliver(delivery.id) == "pending"
    assert fresh(EventDelivery, delivery.id).next_attempt_at == T0 + timedelta(seconds=30, minutes=2)
    assert "HTTP 503" in admin_client.get("/settings/events").get_data(as_text=True)

    receiver.answers = [500] * 3
    clock.set(T0 + timedelta(hours=24, seconds=1))
    post(admin_client, f"/settings/events/{endpoint.id}/test")  # a newer event, failing a day after the first
    assert run_deliveries() == ["failed"]
    assert fresh(EventEndpoint, endpoint.id).enabled is False
    assert fresh(EventDelivery, delivery.id).status == "failed"  # what was still pending is not sent any more
    last = db.session.scalar(select(EventDelivery).order_by(EventDelivery.id.desc()))
    assert (last.status, last.last_error) == ("failed", "HTTP 500")
    for page in ("/settings/events", "/"):
        assert "Events are no longer sent to" in admin_client.get(page).get_data(as_text=True)

    assert post(admin_client, f"/settings/events/deliveries/{delivery.id}/replay").status_code == 302
    assert "enable it before replaying" in admin_client.get("/settings/events").get_data(as_text=True)
    post(admin_client, f"/settings/events/{endpoint.id}/enable")
    receiver.answers = []
    post(admin_client, f"/settings/events/deliveries/{delivery.id}/replay")
    assert run_deliveries() == ["delivered"]
    assert "Events are no longer sent to" not in admin_client.get("/").get_data(as_text=True)

    # A delivery whose job was lost (Redis flushed) is found again by the periodic sweep.
    post(admin_client, f"/settings/events/{endpoint.id}/test")
    queue().connection.flushdb()
    assert jobs.events.sweep() == 0  # not yet overdue: its job may just be waiting
    clock.set(clock.now() + timedelta(minutes=3))
    assert jobs.events.sweep() == 1 and run_deliveries() == ["delivered"]


def test_a_redirect_is_not_followed_and_a_slow_endpoint_is_given_up_on_in_time(admin_client, receiver):
    register(admin_client, receiver.url)
    endpoint = db.session.scalar(select(EventEndpoint))
    receiver.answers = [("redirect", receiver.url + "/elsewhere"), "hang"]
    post(admin_client, f"/settings/events/{endpoint.id}/test")
    post(admin_client, f"/settings/events/{endpoint.id}/test")
    started = time.monotonic()
    assert run_deliveries() == ["pending", "pending"]
    assert time.monotonic() - started < 8  # 0.3 s to answer (EVENTS_TIMEOUT_SECONDS), not the 10 s it would hang
    assert [r.path for r in receiver.received] == ["/hooks", "/hooks"]  # /hooks/elsewhere never asked
    redirected, slow = db.session.scalars(select(EventDelivery).order_by(EventDelivery.id))
    assert (redirected.response_code, redirected.last_error) == (
        302, f"Redirected to {receiver.url}/elsewhere: redirects are not followed")
    assert (slow.response_code, slow.last_error) == (None, "No answer within 0.3 s")


def test_private_addresses_and_plain_http_are_refused_when_not_testing(admin_client, receiver, app):
    app.config["EVENTS_ALLOW_PRIVATE"] = False
    for url, error in ((receiver.url, "must start with https://"),
                       ("https://127.0.0.1:8443/hooks", "resolves to 127.0.0.1, a private, loopback or reserved"),
                       ("https://10.1.2.3/hooks", "resolves to 10.1.2.3"),
                       ("https://[::ffff:169.254.169.254]/", "private, loopback or reserved"),
                       ("https://localhost/hooks", "private, loopback or reserved"),
                       ("https://user:pw@example.com/", "no user name or password"),
                       ("https://example.com:99999/", "port")):
        answer = register(admin_client, url)
        assert answer.status_code == 422 and error in answer.get_data(as_text=True), url
    answer = register(admin_client, "https://example.com/hooks", types=[])
    assert answer.status_code == 422 and "Choose at least one event type" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EventEndpoint)) == 0

    # One registered while allowed is refused at delivery once it is not: the address is checked each time.
    app.config["EVENTS_ALLOW_PRIVATE"] = True
    register(admin_client, receiver.url)
    endpoint = db.session.scalar(select(EventEndpoint))
    post(admin_client, f"/settings/events/{endpoint.id}/test")
    app.config["EVENTS_ALLOW_PRIVATE"] = False
    assert run_deliveries() == ["pending"]
    assert "resolves to 127.0.0.1" in db.session.scalar(select(EventDelivery.last_error))
    assert receiver.received == []


@pytest.mark.only_on("sqlite")  # pages and forms only
def test_staff_get_403_and_every_form_needs_its_csrf_token(staff_client, app, admin):
    assert staff_client.get("/settings/events").status_code == 403
    assert register(staff_client, "https://example.com/").status_code == 403
    admin_client = app.test_client()
    login(admin_client, admin.email)
    answer = admin_client.post("/settings/events", data={"url": "https://example.com/", "event_types": ["link.clicked"]})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(EventEndpoint)) == 0

"""Meta reviews templates after approval: the sandbox pauses, reinstates or recategorises one and sends the signed
`message_template_status_update` / `template_category_update` webhooks, as Meta does. A paused template stops its
sending campaign before a message fails; reinstated, it is read again from the Graph API and the campaign resumes."""
from __future__ import annotations

import time

import pytest
from rq import Queue
from sqlalchemy import select

from tests.campaigns.sending import launch, send_all
from tests.conftest import post
from tests.processes import wait_until
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db
from webapp.sandbox.webhooks import encode, signature
from webapp.senders.models import Template

SECRET = "sandbox-app-secret"  # the sandbox signs with it
PEOPLE = [(f"+1555000{i:04d}", f"Customer {i}", {"order": f"A-{i}"}) for i in range(20, 25)]


def _template(name="order_shipped") -> Template:
    db.session.expire_all()
    return db.session.scalar(select(Template).where(Template.name == name))


def _fresh(campaign_id) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def _post(client, payload: dict):
    body = encode(payload)
    return client.post("/webhooks/meta", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature(body, SECRET)})


def test_a_paused_template_stops_its_campaign_before_a_message_fails_and_reinstated_it_sends(
        app, sandbox, sandbox_sender, live_server, admin_client):
    app.config["META_APP_SECRET"] = SECRET
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta")
    campaign = launch(sandbox_sender, PEOPLE)  # sending, its dispatcher not started
    for bad, error in (({"name": "order_shipped", "language": "en_US", "event": "SIDEWAYS"}, "'event' must be one of"),
                       ({"name": "no_such", "language": "en_US", "event": "PAUSED"}, "no template has that")):
        refused = sandbox.http.post(f"{sandbox.base_url}/_sandbox/template-status", json=bad, timeout=10)
        assert refused.status_code == 400 and error in refused.json()["error"]
    assert sandbox.control("GET", "webhooks")["count"] == 0  # nothing sent for them

    sandbox.control("POST", "template-status", json={"name": "order_shipped", "language": "en_US", "event": "PAUSED"})

    paused = wait_until(lambda: (c := _fresh(campaign.id)).status == "paused" and c, timeout=15,
                        message="the template's pause to pause the campaign")
    assert paused.notice.startswith("Paused: Meta paused the template order_shipped (en_US) for low quality.")
    assert "Meta: the template's review: PAUSED — “Your WhatsApp message template has been paused" in paused.notice
    assert _template().status == "PAUSED" and sandbox.messages() == []  # stopped before any send
    assert db.session.scalar(select(Recipient.status).where(Recipient.campaign_id == campaign.id).limit(1)) == "pending"
    assert "Paused" in admin_client.get("/settings/templates").get_data(as_text=True)
    paused_webhook = sandbox.control("GET", "webhooks")["data"][-1]["payload"]

    # Meta reinstates it: approved again, and read again from the Graph API by a job.
    sandbox.control("POST", "template-status", json={"name": "order_shipped", "language": "en_US",
                                                     "event": "REINSTATED"})
    wait_until(lambda: _template().status == "APPROVED", timeout=15, message="the reinstatement")
    queued = [job for job in Queue("default", connection=app.extensions["redis"]).get_jobs()]
    assert [(job.func_name, job.args) for job in queued] == [("jobs.senders.sync", (sandbox_sender.id,))]

    # The pause's webhook again, as a retry of Meta's would come late: older than the reinstatement, it changes nothing.
    paused_webhook["entry"][0]["time"] -= 60
    assert _post(admin_client, paused_webhook).status_code == 200
    assert _template().status == "APPROVED"

    post(admin_client, f"/campaigns/{campaign.id}/resume")
    done = send_all(campaign.id)
    assert done.status in ("sent", "partially_sent") and len(sandbox.messages()) == len(PEOPLE)


@pytest.mark.only_on("sqlite")  # the webhook's rules; the database work is the test above's, on both
def test_a_finished_category_change_applies_and_an_impending_one_or_a_warning_changes_nothing(
        app, sandbox_sender, admin_client):
    app.config["META_APP_SECRET"] = SECRET
    template = _template("appointment_reminder")
    assert (template.category, template.status) == ("UTILITY", "APPROVED")
    at = int(time.time()) + 5

    def change(field, value, when=at):
        value = {"message_template_id": int(template.meta_id), "message_template_name": template.name,
                 "message_template_language": template.language, **value}
        return {"object": "whatsapp_business_account", "entry": [{"id": sandbox_sender.waba_id, "time": when,
                                                                  "changes": [{"field": field, "value": value}]}]}

    _post(admin_client, change("template_category_update", {"correct_category": "MARKETING",
                                                             "new_category": "UTILITY",
                                                             "category_update_timestamp": at + 86400}))
    _post(admin_client, change("message_template_status_update", {"event": "FLAGGED", "reason": "NONE"}))
    assert (_template("appointment_reminder").category, _template("appointment_reminder").status) == \
        ("UTILITY", "APPROVED")

    _post(admin_client, change("template_category_update", {"previous_category": "UTILITY",
                                                             "new_category": "MARKETING"}, when=at + 1))
    assert _template("appointment_reminder").category == "MARKETING"

    other_account = change("message_template_status_update", {"event": "DISABLED", "reason": "NONE"}, when=at + 2)
    other_account["entry"][0]["id"] = "999999999999999"
    assert _post(admin_client, other_account).status_code == 200
    assert _template("appointment_reminder").status == "APPROVED"  # another account's template of that name

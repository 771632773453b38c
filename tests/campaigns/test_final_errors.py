"""The error a failed row shows is its final one, as the sandbox recorded it, never an earlier retry's note."""
from __future__ import annotations

from tests.campaigns.sending import launch, rows_by_phone, send_all
from tests.processes import wait_until
from webapp.extensions import db

# The sandbox's deterministic profile fails numbers ending in 00-04 by webhook with 131026 (webapp/sandbox/profile.py).
PEOPLE = [("+15550950000", "Ana", {"order": "#1"}), ("+15550950050", "Ben", {"order": "#2"})]


def test_a_row_retried_after_a_5xx_and_then_refused_shows_the_final_refusal(app, sandbox, sandbox_sender):
    app.config["RETRY_BASE_SECONDS"] = 0.1
    sandbox.fault(status=500, count=2)                # 131000 "Something went wrong": both retried…
    sandbox.fault(status=400, code=131026, count=1)  # …then the first number is refused for good
    campaign = launch(sandbox_sender, PEOPLE)
    for _ in range(5):
        campaign = send_all(campaign.id)
        if campaign.status != "sending":
            break

    rows = rows_by_phone(campaign.id)
    assert sandbox.stats()["errors"] == {"131000": 2, "131026": 1}
    refused = [row for row in rows.values() if row.status == "failed"]
    assert [(row.error_code, row.error_title, row.attempts) for row in refused] == \
        [(131026, "Message undeliverable", 2)]
    sent = [row for row in rows.values() if row.status != "failed"]
    assert [(row.error_code, row.error_title) for row in sent] == [(None, "")]  # its retry's note is gone


def test_a_row_retried_after_a_5xx_and_failed_by_webhook_shows_the_webhooks_error(app, sandbox, sandbox_sender,
                                                                                  live_server):
    from tests.webhooks.scenarios import configure_webhook

    app.config["RETRY_BASE_SECONDS"] = 0.1
    configure_webhook(meta_app_secret="sandbox-app-secret")
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.1, delivered_delay=0.2,
                      read_delay=0.3, reply_delay=0.4, delay_jitter=0)
    sandbox.fault(status=500, count=2)
    campaign = launch(sandbox_sender, PEOPLE)
    for _ in range(5):
        campaign = send_all(campaign.id)
        if campaign.status != "sending":
            break

    def failed_row():
        db.session.commit()
        row = rows_by_phone(campaign.id)["+15550950000"]
        return row if row.status == "failed" else None

    row = wait_until(failed_row, 10, message="the 131026 webhook")
    assert sandbox.stats()["errors"] == {"131000": 2}
    assert [m["outcome"] for m in sandbox.messages() if m["to"] == row.phone] == ["failed_131026"]
    assert (row.error_code, row.error_title, row.attempts) == (131026, "Message undeliverable", 2)


def test_a_webhook_failure_for_a_message_whose_answer_was_lost_replaces_the_error_of_the_last_refused_attempt(
        app, sandbox, sandbox_sender, staff_client):
    """An attempt was accepted but its answer lost, a later attempt was refused (131000, out of attempts): when the
    lost attempt's `failed` webhook comes, it is what Meta did with the one message that went, and it stays."""
    from tests.webhooks import meta
    from tests.webhooks.scenarios import T0, configure_webhook
    from webapp.campaigns.lifecycle import report
    from webapp.meta_errors import MetaError

    configure_webhook()
    campaign = launch(sandbox_sender, PEOPLE[:1])
    row = rows_by_phone(campaign.id)[PEOPLE[0][0]]
    row.status, row.attempts = "sending", 2
    report(row, "failed", T0, failure=MetaError(131000, "Something went wrong", "Service temporarily unavailable."))
    db.session.commit()

    meta.post(staff_client, meta.statuses(meta.status("wamid.LOST1", "failed", T0, "15550950000", row_id=row.id,
                                                      error=(131026, "Message undeliverable", "Unable to deliver."))))
    row = rows_by_phone(campaign.id)[PEOPLE[0][0]]
    assert (row.status, row.error_code, row.error_title, row.wamid) == \
        ("failed", 131026, "Message undeliverable", "wamid.LOST1")

    meta.post(staff_client, meta.statuses(meta.status("wamid.LOST1", "failed", T0, "15550950000", row_id=row.id,
                                                      error=(131000, "Something went wrong", ""))))
    assert rows_by_phone(campaign.id)[PEOPLE[0][0]].error_code == 131026  # a duplicate keeps the first

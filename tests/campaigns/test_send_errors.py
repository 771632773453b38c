"""Meta's errors in a send's answer, against the real sandbox over HTTP: what the row, the campaign's banner,
the log and the number of requests show."""
from __future__ import annotations

import csv
import io

from sqlalchemy import update

from jobs.campaigns import dispatcher
from tests.api.conftest import ApiClient, make_key
from tests.campaigns.sending import launch, rows_by_phone, send_all
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, Recipient
from webapp.extensions import db

PEOPLE = [(f"+1555030{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(6)]
DETAIL = "body: number of localizable_params (2) does not match the expected number of params (3)"


def _break_the_parameters(campaign_id: int) -> dict:
    """As if the template changed at Meta after the launch: the stored values are one short of its variables."""
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign_id)
                       .values(params={"body": ["Ana", "#1"]}))
    db.session.commit()
    return {"body": ["Ana", "#1", "Friday"]}


def test_132000_keeps_its_details_in_the_banner_the_row_the_log_and_the_api(app, sandbox, sandbox_sender,
                                                                            staff_client, client):
    campaign = launch(sandbox_sender, PEOPLE)
    _break_the_parameters(campaign.id)

    assert dispatcher(campaign.id).run() == "stopped"

    campaign = db.session.get(Campaign, campaign.id, populate_existing=True)
    assert campaign.status == "paused" and campaign.notice_code == 132000
    assert "order_shipped (en_US)" in campaign.notice
    assert DETAIL in campaign.notice
    first = rows_by_phone(campaign.id)[PEOPLE[0][0]]
    assert (first.status, first.error_code, first.error_detail) == ("pending", 132000, DETAIL)
    assert first.error_title == "Number of parameters does not match the expected number of params"
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert DETAIL in page
    log = staff_client.get(f"/campaigns/{campaign.id}/log.csv", buffered=True).get_data(as_text=True)
    by_phone = {row["Phone"].lstrip("'"): row for row in csv.DictReader(io.StringIO(log.lstrip("\ufeff")))}
    assert (by_phone[PEOPLE[0][0]]["Error code"], by_phone[PEOPLE[0][0]]["Error details"]) == ("132000", DETAIL)
    api = ApiClient(client, app, make_key()).get(f"/broadcasts/{campaign.id}/recipients").get_json()
    assert {row["phone_number"]: row["error_detail"] for row in api["data"]}[PEOPLE[0][0]] == DETAIL


def test_a_row_paused_by_a_template_error_is_sent_when_the_campaign_resumes_and_its_error_goes(
        app, sandbox, sandbox_sender):
    campaign = launch(sandbox_sender, PEOPLE)
    fixed = _break_the_parameters(campaign.id)
    dispatcher(campaign.id).run()

    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id).values(params=fixed))
    services.resume(db.session.get(Campaign, campaign.id))
    db.session.commit()
    campaign = send_all(campaign.id)

    assert campaign.status == "sent" and campaign.notice == ""
    first = rows_by_phone(campaign.id)[PEOPLE[0][0]]
    assert first.wamid and (first.error_code, first.error_title, first.error_detail) == (None, "", "")
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(p[0] for p in PEOPLE)


def test_190_makes_exactly_one_request_before_the_pause_and_again_after_a_resume(app, sandbox, sandbox_sender):
    people = [(f"+1555031{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(40)]
    campaign = launch(sandbox_sender, people)
    sandbox.fault(status=401, code=190, for_seconds=60)  # the sender's token expired

    assert dispatcher(campaign.id, 0).run() == "stopped"
    assert dispatcher(campaign.id, 1).run() == "stopped"  # the campaign's other slot sends nothing either
    assert sandbox.stats()["errors"] == {"190": 1}
    campaign = db.session.get(Campaign, campaign.id, populate_existing=True)
    assert (campaign.status, campaign.notice_code) == ("paused", 190)
    assert {row.status for row in rows_by_phone(campaign.id).values()} == {"pending"}

    services.resume(campaign)  # before the token is fixed: it costs one request again, not a burst
    db.session.commit()
    assert dispatcher(campaign.id).run() == "stopped"
    assert sandbox.stats()["errors"] == {"190": 2}


def test_once_a_first_message_is_accepted_the_requests_go_out_many_at_a_time(app, sandbox, sandbox_sender):
    people = [(f"+1555032{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(60)]
    campaign = send_all(launch(sandbox_sender, people).id)

    assert campaign.status == "sent"
    assert sandbox.stats()["max_in_flight"] > 1

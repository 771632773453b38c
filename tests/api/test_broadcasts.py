"""Broadcasts through the API: create, add recipients in batches, change, send and control, read and list."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests import factories
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow

VARIABLES = {"body:1": {"source": "name", "fallback": "there"}, "body:2": {"source": "constant", "value": "#7"}}


def _rows(campaign_id: int) -> dict[str, Recipient]:
    db.session.expire_all()
    return {r.phone: r for r in db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id))}


def _campaign(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def _later(hours: int = 2) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def test_a_draft_needs_only_a_template_name_and_takes_its_defaults(api, templates):
    response = api.post("/broadcasts", {"template_name": "order_update"})

    assert response.status_code == 201
    body = response.get_json()
    broadcast = body["data"]
    assert broadcast["status"] == "draft" and broadcast["name"].startswith("order_update ")
    assert broadcast["template"] == {"name": "order_update", "language": "en_US"}
    assert broadcast["sender"]["id"] == templates["positional"].id or broadcast["sender"]["label"] == "Test number"
    assert broadcast["audience"] == {"lists": [], "segment": None, "retarget": None, "direct": True}
    assert (body["accepted"], body["rejected"], body["recipients"], body["forecast"]) == (0, 0, None, None)
    assert _campaign(broadcast["id"]).origin == "api"


def test_inline_recipients_with_positional_and_named_parameters(api, templates):
    positional = api.post("/broadcasts", {"template_name": "order_update", "name": "Orders", "recipients": [
        {"phone_number": "+14155550100", "template_parameters": ["Ana", "#1"]},
        {"phone_number": "+14155550101", "template_parameters": ["Bo"]},
        {"phone_number": "+14155550102", "template_parameters": {"1": "Cy", "2": "#3"}},
        "+14155550100"]}).get_json()
    named = api.post("/broadcasts", {"template_name": "promo", "language": "en", "recipients": [
        {"phone_number": "+14155550100",
         "template_parameters": {"first_name": "Ana", "discount": "10%", "season": "spring"}},
        {"phone_number": "+14155550101", "template_parameters": {"first_name": "Bo", "colour": "red"}}]}).get_json()

    assert (positional["accepted"], positional["rejected"]) == (2, 1)
    report = positional["recipients"]
    assert (report["added"], report["duplicates"], report["total_recipients"]) == (2, 1, 2)
    assert report["errors"][0]["index"] == 1
    assert "takes 2 parameters" in report["errors"][0]["reason"] and "1 was given" in report["errors"][0]["reason"]
    rows = _rows(positional["data"]["id"])
    assert rows["+14155550100"].params == {"body": ["Ana", "#1"]}
    assert rows["+14155550102"].params == {"body": ["Cy", "#3"]}
    named_rows = _rows(named["data"]["id"])
    assert named_rows["+14155550100"].params == {
        "header": {"type": "text", "text": "spring", "parameter_name": "season"},
        "body": {"first_name": "Ana", "discount": "10%"}}
    assert "no parameter colour" in named["recipients"]["errors"][0]["reason"]


def test_a_document_header_takes_each_recipients_url_and_filename(api, templates):
    body = api.post("/broadcasts", {"template_name": "invoice", "recipients": [
        {"phone_number": "+14155550100", "template_parameters": ["INV-1"],
         "header_url": "https://example.com/1.pdf", "header_filename": "1.pdf"},
        {"phone_number": "+14155550101", "template_parameters": {"1": "INV-2", "header_url": "ftp://x"}},
        {"phone_number": "+14155550102", "template_parameters": ["INV-3"]}]}).get_json()

    rows = _rows(body["data"]["id"])
    assert rows["+14155550100"].params["header"] == {"type": "document", "link": "https://example.com/1.pdf",
                                                     "filename": "1.pdf"}
    assert [e["index"] for e in body["recipients"]["errors"]] == [1, 2]
    assert "header_url" in body["recipients"]["errors"][0]["reason"]


def test_recipients_without_parameters_use_the_broadcasts_mapping_and_their_own_name(api, templates):
    body = api.post("/broadcasts", {"template_name": "order_update", "variables": VARIABLES, "recipients": [
        {"phone_number": "+14155550100", "name": "Ana"}, "+14155550101",
        {"phone_number": "+14155550102", "template_parameters": {"1": "Cy"}}]}).get_json()

    rows = _rows(body["data"]["id"])
    assert rows["+14155550100"].params == {"body": ["Ana", "#7"]}
    assert rows["+14155550101"].params == {"body": ["there", "#7"]}
    assert rows["+14155550102"].params == {"body": ["Cy", "#7"]}


def test_opted_out_contacts_are_stored_as_skipped_and_counted(api, templates):
    db.session.add(Contact(phone="+14155550101", opted_out_at=utcnow(), opt_out_reason="STOP"))
    db.session.commit()

    body = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["A", "B"],
                                    "recipients": ["+14155550100", "+14155550101"]}).get_json()

    assert body["recipients"]["skipped"] == [{"index": 1, "recipient": "+14155550101",
                                              "reason": "opted out: never sent"}]
    assert (body["accepted"], body["rejected"]) == (1, 1)
    rows = _rows(body["data"]["id"])
    assert (rows["+14155550101"].status, rows["+14155550101"].skip_reason) == ("skipped", "Opted out")
    assert counts(db.session, body["data"]["id"]) == recount(db.session, body["data"]["id"])


def test_add_recipients_in_batches_reports_duplicates_and_errors_by_index(api, templates):
    broadcast_id = api.post("/broadcasts", {"template_name": "order_update"}).get_json()["data"]["id"]
    first = [{"phone_number": f"+1415555{i:04d}", "template_parameters": [f"C{i}", str(i)]} for i in range(600)]
    second = first[500:] + [{"phone_number": "+1415555bad", "template_parameters": ["x", "y"]},
                            {"phone_number": "+14155559999", "template_parameters": ["only one"]},
                            {"phone_number": "+14155559998", "template_parameters": ["ok", "1"]}]

    one = api.post(f"/broadcasts/{broadcast_id}/recipients", {"recipients": first}).get_json()["data"]
    two = api.post(f"/broadcasts/{broadcast_id}/recipients", {"recipients": second}).get_json()["data"]

    assert (one["added"], one["duplicates"], one["errors"], one["total_recipients"]) == (600, 0, [], 600)
    assert (two["added"], two["duplicates"], two["total_recipients"]) == (1, 100, 601)
    assert [e["index"] for e in two["errors"]] == [100, 101]
    assert counts(db.session, broadcast_id) == recount(db.session, broadcast_id)


def test_more_than_1000_recipients_in_one_request_is_413_and_stores_nothing(api, templates):
    broadcast_id = api.post("/broadcasts", {"template_name": "order_update"}).get_json()["data"]["id"]
    many = [f"+1415555{i:04d}" for i in range(1001)]

    response = api.post(f"/broadcasts/{broadcast_id}/recipients", {"recipients": many})
    create = api.post("/broadcasts", {"template_name": "order_update", "recipients": many})

    assert (response.status_code, response.get_json()["error"]["code"]) == (413, "payload_too_large")
    assert create.status_code == 413
    assert counts(db.session, broadcast_id)["total"] == 0


def test_recipients_cannot_be_added_once_it_has_started(api, templates, sender):
    started = factories.campaign(status="sending", sender=sender)

    response = api.post(f"/broadcasts/{started.id}/recipients", {"recipients": ["+14155550100"]})

    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "conflict")
    assert api.post("/broadcasts/999/recipients", {"recipients": ["+14155550100"]}).status_code == 404


def test_list_audience_and_the_forecast(api, templates):
    customers = factories.contact_list("Customers", [("+14155550100", "Ana", {}), ("+14155550101", "", {})])
    db.session.add(Contact(phone="+14155550102", opted_out_at=utcnow()))
    db.session.commit()
    factories.contact_list("More", ["+14155550102"])

    body = api.post("/broadcasts", {"template_name": "order_update", "list_ids": [customers.id, customers.id + 1],
                                    "variables": VARIABLES}).get_json()

    assert body["data"]["audience"] == {"lists": [customers.id, customers.id + 1], "segment": None, "retarget": None,
                                        "direct": False}
    assert body["forecast"] == {"total": 3, "sendable": 2, "opted_out": 1, "missing_values": 0}
    assert (body["accepted"], body["rejected"]) == (2, 1)


def test_semantic_errors_are_422_naming_the_field(api, templates):
    customers = factories.contact_list("Customers", ["+14155550100"])
    cases = {
        "template_name": {"template_name": "nope"},
        "sender_id": {"template_name": "order_update", "sender_id": 999},
        "var:body:1": {"template_name": "order_update", "list_ids": [customers.id]},
        "audience": {"template_name": "order_update", "list_ids": [999]},
        "template_parameters": {"template_name": "order_update", "template_parameters": ["one"]},
    }
    for field, body in cases.items():
        response = api.post("/broadcasts", body)
        error = response.get_json()["error"]
        assert (response.status_code, error["code"], error["details"]["field"]) == (422, "unprocessable", field)


def test_quick_reply_payloads_are_given_by_button_index_and_default_to_the_buttons_text(api, templates):
    factories.template(name="offer", category="MARKETING", components=[
        {"type": "BODY", "text": "Hi {{1}}, 20% off all week."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes please"},
                                        {"type": "QUICK_REPLY", "text": "Stop promotions"}]}])
    db.session.commit()

    created = api.post("/broadcasts", {"template_name": "offer", "button_payloads": {"1": "STOP_PROMOS"},
                                       "recipients": [{"phone_number": "+14155550100",
                                                       "template_parameters": ["Ana"]}]})
    refused = api.post("/broadcasts", {"template_name": "offer", "button_payloads": {"2": "MORE"}})

    broadcast = created.get_json()["data"]
    assert (created.status_code, broadcast["button_payloads"]) == (201, {"1": "STOP_PROMOS"})
    assert _rows(broadcast["id"])["+14155550100"].params["buttons"] == [
        {"index": 0, "sub_type": "quick_reply", "payload": "Yes please"},
        {"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}]
    error = refused.get_json()["error"]
    assert (refused.status_code, error["details"]["field"]) == (422, "payload:2")
    assert error["message"] == "The template has no quick-reply button at index 2."
    offered = {t["name"]: t for t in api.get("/templates").get_json()["data"]}
    assert offered["offer"]["quick_replies"] == [{"index": 0, "text": "Yes please"},
                                                 {"index": 1, "text": "Stop promotions"}]


def test_a_template_in_two_languages_needs_the_language(api, templates):
    factories.template(name="promo", language="es", parameter_format="NAMED",
                       components=templates["named"].components)

    response = api.post("/broadcasts", {"template_name": "promo"})

    assert response.status_code == 422 and "en, es" in response.get_json()["error"]["message"]


def test_invalid_fields_are_400_naming_them(api, templates):
    response = api.post("/broadcasts", {"template_name": 5, "list_ids": "all", "sned": True})

    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (400, "invalid_request")
    assert {d["field"] for d in error["details"]} == {"template_name", "list_ids", "(body)"}
    assert "sned" in str(error["details"])


def test_send_at_once_answers_202_and_queues_the_launch(api, templates):
    body = api.post("/broadcasts", {"template_name": "order_update", "send": True,
                                    "recipients": [{"phone_number": "+14155550100",
                                                    "template_parameters": ["A", "1"]}]})

    assert body.status_code == 202
    campaign = _campaign(body.get_json()["data"]["id"])
    assert campaign.status == "queued" and campaign.launched_at is not None


def test_sending_a_draft_without_recipients_is_422_and_twice_is_409(api, templates):
    empty = api.post("/broadcasts", {"template_name": "order_update"}).get_json()["data"]["id"]
    full = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                    "recipients": ["+14155550100"]}).get_json()["data"]["id"]

    nothing = api.post(f"/broadcasts/{empty}/send")
    sent = api.post(f"/broadcasts/{full}/send")
    again = api.post(f"/broadcasts/{full}/send")

    assert (nothing.status_code, nothing.get_json()["error"]["details"]) == (422, {"field": "recipients"})
    assert (sent.status_code, sent.get_json()["accepted"]) == (202, 1)
    assert again.status_code == 409


def test_schedule_update_and_unschedule(api, templates):
    created = api.post("/broadcasts", {"template_name": "order_update", "schedule_at": _later()})
    broadcast_id = created.get_json()["data"]["id"]

    renamed = api.patch(f"/broadcasts/{broadcast_id}", {"name": "Friday promo", "template_parameters": ["a", "b"]})
    past = api.patch(f"/broadcasts/{broadcast_id}", {"schedule_at": "2020-01-01T00:00:00Z"})
    naive = api.patch(f"/broadcasts/{broadcast_id}", {"schedule_at": "2030-01-01T00:00:00"})
    unscheduled = api.patch(f"/broadcasts/{broadcast_id}", {"schedule_at": None})

    assert created.status_code == 201 and created.get_json()["data"]["status"] == "scheduled"
    assert renamed.get_json()["data"]["name"] == "Friday promo"
    assert renamed.get_json()["data"]["variables"]["body:2"] == {"source": "constant", "value": "b"}
    assert renamed.get_json()["data"]["status"] == "scheduled"
    assert (past.status_code, past.get_json()["error"]["details"]) == (422, {"field": "scheduled_at"})
    assert naive.status_code == 400
    assert unscheduled.get_json()["data"]["status"] == "draft"
    assert unscheduled.get_json()["data"]["scheduled_at"] is None


def test_the_template_of_a_draft_with_recipients_cannot_change(api, templates):
    broadcast_id = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                            "recipients": ["+14155550100"]}).get_json()["data"]["id"]

    response = api.patch(f"/broadcasts/{broadcast_id}", {"template_name": "promo", "language": "en"})

    assert response.status_code == 409


def test_update_and_delete_refuse_a_broadcast_that_started(api, templates, sender):
    started = factories.campaign(status="sending", sender=sender)

    update = api.patch(f"/broadcasts/{started.id}", {"name": "x"})
    delete = api.delete(f"/broadcasts/{started.id}")

    assert update.status_code == 409 and delete.status_code == 409
    assert "cancel it instead" in delete.get_json()["error"]["message"]
    assert api.patch("/broadcasts/999", {"name": "x"}).status_code == 404


def test_delete_a_draft(api, templates):
    broadcast_id = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                            "recipients": ["+14155550100"]}).get_json()["data"]["id"]

    response = api.delete(f"/broadcasts/{broadcast_id}")

    assert response.get_json() == {"data": {"id": broadcast_id, "deleted": True}}
    assert _campaign(broadcast_id) is None
    assert api.get(f"/broadcasts/{broadcast_id}").status_code == 404


def test_pause_resume_and_cancel(api, templates, sender):
    campaign = factories.campaign(status="sending", sender=sender, phones=["+14155550100", "+14155550101"],
                                  started_at=utcnow())

    paused = api.post(f"/broadcasts/{campaign.id}/pause")
    pause_again = api.post(f"/broadcasts/{campaign.id}/pause")
    resumed = api.post(f"/broadcasts/{campaign.id}/resume")
    cancelled = api.post(f"/broadcasts/{campaign.id}/cancel")
    cancel_again = api.post(f"/broadcasts/{campaign.id}/cancel")

    assert paused.get_json()["data"]["status"] == "paused" and pause_again.status_code == 409
    assert resumed.get_json()["data"]["status"] == "sending"
    body = cancelled.get_json()["data"]
    assert body["status"] == "cancelled" and body["counts"]["cancelled"] == 2 and body["completed_at"]
    assert cancel_again.status_code == 409


def test_get_one_has_counts_rates_and_times(api, sender):
    campaign = factories.campaign(status="sending", sender=sender, phones=[f"+1415555010{i}" for i in range(4)])
    rows = list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                                   .order_by(Recipient.id)))
    from webapp.campaigns.lifecycle import add_counts, move, report

    moment = utcnow()
    changes = [report(rows[0], "sent", moment), report(rows[1], "read", moment), report(rows[1], "sent", moment),
               report(rows[2], "sent", moment), report(rows[2], "failed", moment), move(rows[3], "skipped")]
    for change in changes:
        add_counts(db.session, campaign.id, change)
    db.session.commit()

    body = api.get(f"/broadcasts/{campaign.id}").get_json()["data"]

    assert {k: body["counts"][k] for k in ("total", "pending", "sent", "delivered", "read", "failed", "skipped")} \
        == {"total": 4, "pending": 0, "sent": 3, "delivered": 1, "read": 1, "failed": 1, "skipped": 1}
    assert body["rates"] == {"delivery_rate": 33.3, "read_rate": 33.3, "response_rate": 0.0}
    assert body["created_at"].endswith("Z") and body["completed_at"] is None


def test_list_filters_by_status_time_and_name_and_pages(api, sender):
    old = factories.campaign(status="sent", sender=sender, name="Spring sale")
    old.created_at = datetime(2025, 1, 10, tzinfo=timezone.utc)
    factories.campaign(status="draft", sender=sender, name="Summer sale")
    factories.campaign(status="sending", sender=sender, name="Autumn news")
    db.session.commit()

    assert [b["name"] for b in api.get("/broadcasts").get_json()["data"]] == ["Autumn news", "Summer sale",
                                                                              "Spring sale"]
    assert [b["name"] for b in api.get("/broadcasts", status="draft,sent").get_json()["data"]] == \
        ["Summer sale", "Spring sale"]
    assert [b["name"] for b in api.get("/broadcasts", status="ongoing").get_json()["data"]] == ["Autumn news"]
    assert [b["name"] for b in api.get("/broadcasts", q="SALE", to="2025-02-01").get_json()["data"]] == \
        ["Spring sale"]
    assert [b["name"] for b in api.get("/broadcasts", **{"from": "2025-02-01T00:00:00Z"}).get_json()["data"]] == \
        ["Autumn news", "Summer sale"]
    page = api.get("/broadcasts", per_page=2, page=2).get_json()
    assert [b["name"] for b in page["data"]] == ["Spring sale"] and page["meta"]["total"] == 3
    assert api.get("/broadcasts", status="nope").status_code == 400
    assert api.get("/broadcasts", per_page=0).status_code == 400
    assert api.get("/broadcasts", **{"from": "yesterday"}).status_code == 400


def test_the_recipients_log_pages_and_filters(api, sender):
    campaign = factories.campaign(status="sending", sender=sender, phones=[f"+4420794601{i:02d}" for i in range(5)])
    rows = list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                                   .order_by(Recipient.id)))
    from webapp.campaigns.lifecycle import add_counts, report
    from webapp.meta_errors import MetaError

    rows[0].name, rows[0].country = "Ana", "GB"
    add_counts(db.session, campaign.id, report(rows[1], "failed", utcnow(), failure=MetaError(131026, "Undeliverable")))
    db.session.commit()

    first = api.get(f"/broadcasts/{campaign.id}/recipients", per_page=2).get_json()
    second = api.get(f"/broadcasts/{campaign.id}/recipients", per_page=2,
                     after=first["meta"]["next_after"]).get_json()
    failed = api.get(f"/broadcasts/{campaign.id}/recipients", status="failed").get_json()

    assert [r["phone_number"] for r in first["data"]] == ["+442079460100", "+442079460101"]
    assert first["data"][0]["name"] == "Ana" and first["data"][0]["country"] == "GB"
    assert first["data"][0]["country_code"] == "44" and first["data"][1]["country_code"] == "44"
    assert [r["phone_number"] for r in second["data"]] == ["+442079460102", "+442079460103"]
    assert [(r["error_code"], r["error_title"]) for r in failed["data"]] == [(131026, "Undeliverable")]
    assert failed["meta"]["next_after"] is None
    assert api.get(f"/broadcasts/{campaign.id}/recipients", status="lost").status_code == 400
    assert api.get("/broadcasts/999/recipients").status_code == 404


def test_dashboard_sums_the_broadcasts_of_a_range(api, sender):
    counted = factories.campaign(status="sending", sender=sender, phones=["+14155550100", "+14155550101"])
    other = factories.campaign(status="draft", sender=sender)
    other.created_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    rows = list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == counted.id)))
    from webapp.campaigns.lifecycle import add_counts, report

    add_counts(db.session, counted.id, report(rows[0], "read", utcnow()))
    db.session.commit()

    everything = api.get("/dashboard").get_json()["data"]
    recent = api.get("/dashboard", **{"from": "2021-01-01"}).get_json()["data"]

    assert everything["broadcasts"]["total"] == 2 and everything["broadcasts"]["by_status"]["draft"] == 1
    assert recent["broadcasts"]["total"] == 1 and recent["from"] == "2021-01-01T00:00:00Z"
    assert (recent["messages"]["total"], recent["messages"]["read"], recent["messages"]["pending"]) == (2, 1, 1)
    assert recent["rates"] == {"delivery_rate": 100.0, "read_rate": 100.0, "response_rate": 0.0}


def test_senders_and_templates_tell_what_a_broadcast_can_use(api, templates):
    senders = api.get("/senders").get_json()["data"]
    found = {t["name"]: t for t in api.get("/templates", sender_id=senders[0]["id"]).get_json()["data"]}

    assert senders[0]["phone_number_id"] == "100000000000001"
    assert found["promo"]["parameters"] == [{"key": "header", "label": "Header {{season}}"},
                                            {"key": "body:first_name", "label": "{{first_name}}"},
                                            {"key": "body:discount", "label": "{{discount}}"}]
    assert found["invoice"]["header"] == "document"


@pytest.mark.parametrize("outcome", ["replied", "not_read"])
def test_retarget_an_earlier_broadcast_by_engagement(api, templates, sender, outcome):
    source = factories.campaign(status="sent", sender=sender, phones=["+14155550100"])

    body = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                    "retarget": {"broadcast_id": source.id, "engagement": outcome}}).get_json()

    assert body["data"]["audience"]["retarget"] == {"broadcast_id": source.id, "engagement": outcome}
    assert body["forecast"]["total"] == 0


def test_one_recipient_of_the_log_by_its_id(api, sender):
    campaign = factories.campaign(status="sending", sender=sender, phones=["+14155550100"])
    other = factories.campaign(status="sending", sender=sender, phones=["+14155550101"])
    row_id = db.session.scalar(select(Recipient.id).where(Recipient.campaign_id == campaign.id))

    found = api.get(f"/broadcasts/{campaign.id}/recipients/{row_id}")
    elsewhere = api.get(f"/broadcasts/{other.id}/recipients/{row_id}")

    assert found.get_json()["data"]["phone_number"] == "+14155550100"
    assert elsewhere.status_code == 404


def test_what_every_broadcast_sent_one_number(api, sender):
    first = factories.campaign(status="sent", sender=sender, name="Spring", phones=["+14155550100"])
    factories.campaign(status="sent", sender=sender, name="Other", phones=["+14155550101"])
    second = factories.campaign(status="sending", sender=sender, name="Summer", phones=["+14155550100"])

    page = api.get("/recipients", phone_number="(415) 555-0100", per_page=1).get_json()
    rest = api.get("/recipients", phone_number="+14155550100", after=page["meta"]["next_after"]).get_json()
    missing = api.get("/recipients")
    bad = api.get("/recipients", phone_number="12")

    assert [r["broadcast"] for r in page["data"]] == [{"id": first.id, "name": "Spring"}]
    assert [r["broadcast"]["id"] for r in rest["data"]] == [second.id] and rest["meta"]["next_after"] is None
    assert (missing.status_code, missing.get_json()["error"]["details"][0]["field"]) == (400, "phone_number")
    assert bad.status_code == 400


def test_list_filters_by_sender(api, sender):
    other = factories.sender(phone_number_id="100000000000002", label="Second")
    factories.campaign(status="draft", sender=sender, name="From the first")
    factories.campaign(status="draft", sender=other, name="From the second")

    found = api.get("/broadcasts", sender_id=other.id).get_json()["data"]

    assert [b["name"] for b in found] == ["From the second"]


def test_a_send_at_once_that_cannot_go_leaves_no_draft_behind(api, templates):
    response = api.post("/broadcasts", {"template_name": "order_update", "send": True,
                                        "recipients": [{"phone_number": "+14155550100",
                                                        "template_parameters": ["only one"]}]})

    assert (response.status_code, response.get_json()["error"]["details"]) == (422, {"field": "recipients"})
    assert db.session.scalar(select(Campaign.id)) is None


def test_numbers_given_as_values_read_as_written(api, templates):
    body = api.post("/broadcasts", {"template_name": "order_update", "recipients": [
        {"phone_number": "+14155550100", "template_parameters": [50.0, 12.5]}]}).get_json()

    assert _rows(body["data"]["id"])["+14155550100"].params == {"body": ["50", "12.5"]}

"""webapp.cloudapi against the sandbox over real HTTP: sends, template paging, and every kind of
failure turned into a CloudAPIError with the right action."""
from __future__ import annotations

import socket

import pytest

from tests.sandbox.harness import PHONE_NUMBER_ID, WABA_ID
from webapp.cloudapi import CloudAPI, CloudAPIError, SendResult
from webapp.meta_errors import Action

PROMO = {
    "header": {"type": "text", "text": "summer", "parameter_name": "season"},
    "body": {"first_name": "Camila", "discount": "20%", "end_date": "30 November"},
    "buttons": [{"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}],
}
SHIPPED = {"body": ["Camila", "#10423", "Friday"]}


@pytest.fixture
def client(sandbox):
    api = sandbox.client()
    yield api
    api.close()


def send_shipped(client: CloudAPI, to: str) -> SendResult:
    return client.send_template(PHONE_NUMBER_ID, to, "order_shipped", "en_US", SHIPPED)


def test_send_template_returns_the_wamid_and_the_snapshot_arrives_intact(sandbox, client):
    result = client.send_template(PHONE_NUMBER_ID, "+56961234567", "seasonal_promo", "en", PROMO,
                                  callback_data="rcpt:48213")
    assert result.wa_id == "56961234567" and result.message_status == "accepted"
    [record] = sandbox.messages()
    assert record["wamid"] == result.wamid
    assert record["parameters"] == PROMO
    assert record["biz_opaque_callback_data"] == "rcpt:48213"


def test_send_template_with_media_header_and_url_button(sandbox, client):
    client.send_template(PHONE_NUMBER_ID, "+56961234500", "new_collection", "en",
                         {"header": {"type": "image", "link": "https://cdn.example/a.jpg"}, "body": ["Ana", "spring"]})
    client.send_template(PHONE_NUMBER_ID, "+56961234501", "cart_reminder", "en",
                         {"body": ["Ana", "a hat"], "buttons": [{"index": 0, "sub_type": "url", "text": "c1"}]})
    assert [m["template"]["name"] for m in sandbox.messages()] == ["new_collection", "cart_reminder"]


def test_send_text_is_accepted(sandbox, client):
    result = client.send_text(PHONE_NUMBER_ID, "+56961234567", "Your order is ready")
    [record] = sandbox.messages(to="+56961234567")
    assert (record["wamid"], record["type"], record["text"]) == (result.wamid, "text", "Your order is ready")


def test_list_templates_follows_every_page(client):
    templates = list(client.list_templates(WABA_ID, limit=5))
    assert len(templates) == 13
    assert {"name", "language", "status", "category", "parameter_format", "components", "id"} == set(templates[0])
    approved = list(client.list_templates(WABA_ID, status="APPROVED", limit=2))
    assert approved and all(t["status"] == "APPROVED" for t in approved)


def test_get_phone_number(client):
    number = client.get_phone_number(PHONE_NUMBER_ID)
    assert number["display_phone_number"] == "+1 555-000-1234"
    assert number["throughput"] == {"level": "STANDARD"}


def refused(call) -> CloudAPIError:
    with pytest.raises(CloudAPIError) as caught:
        call()
    return caught.value


def test_wrong_token_stops_the_campaign(sandbox):
    error = refused(lambda: send_shipped(sandbox.client(access_token="expired"), "+56961234567"))
    assert (error.code, error.http_status, error.action) == (190, 401, Action.STOP)
    assert error.fbtrace_id and "access token" in error.title


def test_template_errors_stop_the_campaign(client):
    error = refused(lambda: client.send_template(PHONE_NUMBER_ID, "+56961234567", "welcome_offer", "en", SHIPPED))
    assert (error.code, error.action) == (132001, Action.STOP)
    assert error.title == "Template name does not exist in the translation"
    assert error.details == "template name (welcome_offer) does not exist in en"
    error = refused(lambda: client.send_template(PHONE_NUMBER_ID, "+56961234567", "order_shipped", "en_US",
                                                 {"body": ["Camila"]}))
    assert (error.code, error.action) == (132000, Action.STOP)


def test_malformed_number_fails_only_its_row(client):
    error = refused(lambda: send_shipped(client, "+123"))
    assert (error.code, error.action, error.delivery_unknown) == (131009, Action.ROW_FAIL, False)


def test_throughput_and_pair_limits_are_retryable(sandbox, client):
    sandbox.configure(rate=1)
    send_shipped(client, "+56961234567")
    error = refused(lambda: send_shipped(client, "+56961234568"))
    assert (error.code, error.action, error.action.retryable) == (130429, Action.THROTTLE, True)
    sandbox.configure(rate=80)
    error = refused(lambda: send_shipped(client, "+56961234567"))
    assert (error.code, error.action) == (131056, Action.PAIR_LIMIT)


def test_server_errors_and_maintenance_are_retried(sandbox, client):
    sandbox.fault(status=500, count=1)
    error = refused(lambda: send_shipped(client, "+56961234567"))
    assert (error.http_status, error.action, error.delivery_unknown) == (500, Action.RETRY, False)
    sandbox.fault(status=400, code=131057, count=1)
    assert refused(lambda: send_shipped(client, "+56961234567")).action is Action.MAINTENANCE


def test_timeout_is_retryable_but_the_message_may_have_gone(sandbox):
    sandbox.fault(timeout=True, seconds=1.5)
    client = sandbox.client(timeout=(1, 0.3))
    error = refused(lambda: send_shipped(client, "+56961234567"))
    assert (error.code, error.action, error.delivery_unknown) == (None, Action.RETRY, True)
    assert "did not answer within 0.3 s" in error.message


def test_dropped_connection_is_retryable_but_the_message_may_have_gone(sandbox, client):
    sandbox.fault(disconnect=True)
    error = refused(lambda: send_shipped(client, "+56961234567"))
    assert (error.action, error.delivery_unknown) == (Action.RETRY, True)


def test_refused_connection_is_retryable_and_surely_sent_nothing():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = refused(lambda: send_shipped(CloudAPI(f"http://127.0.0.1:{port}", "v23.0", "t"), "+56961234567"))
    assert (error.action, error.delivery_unknown) == (Action.RETRY, False)
    assert "Could not connect" in error.message

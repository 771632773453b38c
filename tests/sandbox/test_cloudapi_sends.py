"""webapp.cloudapi.Sends, the dispatcher's many sends in flight on one asyncio loop, against the sandbox over real
HTTP: the same answers and the same errors as CloudAPI.send_template (tests/sandbox/test_cloudapi_client.py), since
what the sender does next (retry, hold, never re-send blindly) hangs on them."""
from __future__ import annotations

import socket

from tests.sandbox.harness import PHONE_NUMBER_ID
from webapp.cloudapi import CloudAPI, CloudAPIError, SendResult
from webapp.meta_errors import Action

SHIPPED = {"body": ["Camila", "#10423", "Friday"]}


def send_all(api: CloudAPI, numbers: list[str], template: str = "order_shipped") -> list[SendResult | CloudAPIError]:
    """Send to every number at once through one Sends; each one's result or error, in order."""
    with api.sends(in_flight=8) as sends:
        futures = sends.submit([sends.send_template(PHONE_NUMBER_ID, to, template, "en_US", SHIPPED,
                                                    callback_data=f"r:{i}") for i, to in enumerate(numbers)])
        return [future.exception() or future.result() for future in futures]


def test_many_sends_at_once_each_arrive_once_with_their_row_id(sandbox):
    numbers = [f"+5696123{i:04d}" for i in range(20)]
    results = send_all(sandbox.client(), numbers)
    assert all(isinstance(r, SendResult) and r.message_status == "accepted" for r in results)
    ledger = {m["wamid"]: m for m in sandbox.messages()}
    assert len(ledger) == 20
    for i, (to, result) in enumerate(zip(numbers, results)):
        message = ledger[result.wamid]
        assert (message["to"].lstrip("+"), message["biz_opaque_callback_data"]) == (to.lstrip("+"), f"r:{i}")
        assert message["parameters"] == SHIPPED


def test_meta_refusals_carry_their_code_and_action(sandbox):
    [template] = send_all(sandbox.client(), ["+56961234567"], template="welcome_offer")
    assert (template.code, template.action) == (132001, Action.STOP)
    [token] = send_all(sandbox.client(access_token="expired"), ["+56961234567"])
    assert (token.code, token.http_status, token.action) == (190, 401, Action.STOP)


def test_a_timeout_or_a_dropped_connection_may_have_sent_the_message(sandbox):
    sandbox.fault(timeout=True, seconds=1.5)
    [timeout] = send_all(sandbox.client(timeout=(1, 0.3)), ["+56961234567"])
    assert (timeout.action, timeout.delivery_unknown, timeout.meta_failing) == (Action.RETRY, True, True)
    assert "did not answer within 0.3 s" in timeout.message
    sandbox.fault(disconnect=True)
    [dropped] = send_all(sandbox.client(), ["+56961234568"])
    assert (dropped.action, dropped.delivery_unknown) == (Action.RETRY, True)


def test_a_refused_connection_surely_sent_nothing():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [error] = send_all(CloudAPI(f"http://127.0.0.1:{port}", "v23.0", "t"), ["+56961234567"])
    assert (error.action, error.delivery_unknown, error.meta_failing) == (Action.RETRY, False, True)
    assert "Could not connect" in error.message


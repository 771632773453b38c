"""Faults switched on over HTTP make the sandbox fail as Meta sometimes does: server errors, requests
that hang past the client's timeout, dropped connections, and answers lost after the message went."""
from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox.payloads import assert_meta_error, order_shipped


def test_server_error_fault_hits_the_next_n_sends_then_clears(sandbox):
    sandbox.fault(status=500, count=2)
    first, second, third = (sandbox.send(order_shipped(f"+5696123451{n}")) for n in range(3))
    assert_meta_error(first, 131000, http_status=500)
    assert_meta_error(second, 131000, http_status=500)
    assert third.status_code == 200
    assert [m["to"] for m in sandbox.messages()] == ["+56961234512"]
    assert sandbox.control("GET", "faults")["data"] == []


def test_fault_can_last_a_span_of_seconds(sandbox):
    sandbox.fault(status=503, code=131016, for_seconds=1.0)
    assert_meta_error(sandbox.send(order_shipped("+56961234510")), 131016, http_status=503)
    assert_meta_error(sandbox.send(order_shipped("+56961234511")), 131016, http_status=503)
    time.sleep(1.05)
    assert sandbox.send(order_shipped("+56961234512")).status_code == 200


def test_fault_can_answer_any_meta_code(sandbox):
    sandbox.fault(status=400, code=131057)
    assert_meta_error(sandbox.send(order_shipped("+56961234510")), 131057)


def test_timeout_fault_hangs_past_the_clients_timeout_and_sends_nothing(sandbox):
    sandbox.fault(timeout=True, seconds=1.5)
    with pytest.raises(requests.ReadTimeout):
        sandbox.send(order_shipped("+56961234510"), timeout=0.3)
    assert sandbox.messages() == []


def test_accepted_fault_loses_only_the_answer(sandbox, webhooks):
    """The case at-most-once sending must survive: Meta took the message, the caller never heard."""
    sandbox.fault(timeout=True, seconds=1.0, accept=True)
    with pytest.raises(requests.ReadTimeout):
        sandbox.send(order_shipped("+56961234510", biz_opaque_callback_data="rcpt:7"), timeout=0.3)
    [record] = sandbox.messages()
    assert record["biz_opaque_callback_data"] == "rcpt:7"
    [status] = webhooks.wait_for(lambda w: w.statuses())
    assert (status["id"], status["biz_opaque_callback_data"]) == (record["wamid"], "rcpt:7")


def test_disconnect_fault_drops_the_connection(sandbox):
    sandbox.fault(disconnect=True)
    with pytest.raises(requests.ConnectionError):
        sandbox.send(order_shipped("+56961234510"))
    assert sandbox.send(order_shipped("+56961234511")).status_code == 200


def test_templates_fault_leaves_sends_alone(sandbox):
    sandbox.fault(status=500, endpoint="templates", count=1)
    assert sandbox.send(order_shipped("+56961234510")).status_code == 200
    assert sandbox.get("200000000000001/message_templates").status_code == 500


def test_a_fault_spec_that_makes_no_sense_is_refused(sandbox):
    response = sandbox.http.post(f"{sandbox.base_url}/_sandbox/faults", json={"status": 200})
    assert response.status_code == 400 and "status" in response.json()["error"]
    response = sandbox.http.post(f"{sandbox.base_url}/_sandbox/faults", json={"explode": True})
    assert response.status_code == 400 and "explode" in response.json()["error"]


def test_a_token_fault_answers_as_an_expired_token_does(sandbox):
    sandbox.fault(status=401, code=190)
    error = assert_meta_error(sandbox.send(order_shipped("+56961234510")), 190, http_status=401)
    assert (error["type"], "error_data" in error) == ("OAuthException", False)  # a plain Graph error, as Meta's

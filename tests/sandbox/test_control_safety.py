"""The sandbox is a test double, not a door: its control endpoints show no secret, and a web page that posts
to them from a browser (a form or text/plain, which need no CORS preflight) changes nothing."""
from __future__ import annotations

import pytest

from tests.sandbox.harness import APP_SECRET, TOKEN, VERIFY_TOKEN

SECRETS = {"access_token": TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}


def test_the_config_endpoint_shows_no_secret(sandbox):
    shown = sandbox.control("GET", "config")
    changed = sandbox.configure(rate=7)

    for config in (shown, changed):
        assert {name: config[name] for name in SECRETS} == dict.fromkeys(SECRETS, "[redacted]")
        assert not any(secret in str(config) for secret in SECRETS.values())
    assert changed["rate"] == 7


def _browser_post(sandbox, method: str, path: str, body: str, content_type: str):
    return sandbox.http.request(method, f"{sandbox.base_url}/_sandbox/{path}", data=body,
                                headers={"Content-Type": content_type}, timeout=10)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_customer_message_posted_by_a_web_page_is_refused(sandbox, content_type):
    answer = _browser_post(sandbox, "POST", "inbound", '{"from": "+56961234551", "text": "STOP"}', content_type)

    assert answer.status_code == 415
    assert "application/json" in answer.json()["error"]
    assert sandbox.control("GET", "inbound")["data"] == []


def test_every_write_endpoint_wants_json(sandbox):
    sandbox.fault(status=500, count=1)
    for method, path in [("PATCH", "config"), ("POST", "reset"), ("POST", "faults"), ("DELETE", "faults"),
                         ("POST", "verify-webhook")]:
        assert _browser_post(sandbox, method, path, "rate=1", "text/plain").status_code == 415, path
        assert sandbox.http.request(method, f"{sandbox.base_url}/_sandbox/{path}").status_code == 415, path

    assert sandbox.control("GET", "config")["rate"] == 80
    assert len(sandbox.control("GET", "faults")["data"]) == 1

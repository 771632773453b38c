"""Graph request bodies written out by hand, as the reference shows them, and the check of Meta's
error envelope: the contract tests use these rather than the client, so they test the wire format."""
from __future__ import annotations

import re


def template(name: str, language: str, components: list | None = None, to: str = "+56961234567", **extra) -> dict:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
            "template": {"name": name, "language": {"code": language}}, **extra}
    if components is not None:
        body["template"]["components"] = components
    return body


def body_params(*values: str) -> dict:
    return {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}


def named_params(**values: str) -> dict:
    return {"type": "body", "parameters": [{"type": "text", "parameter_name": k, "text": v}
                                           for k, v in values.items()]}


ORDER_SHIPPED = [body_params("Camila", "#10423", "Friday")]


def order_shipped(to: str, **extra) -> dict:
    """A valid send of the utility template `order_shipped` to `to`."""
    return template("order_shipped", "en_US", ORDER_SHIPPED, to=to, **extra)


def assert_meta_error(response, code: int, http_status: int = 400) -> dict:
    """The response is Meta's error envelope for `code`; returns its `error` object."""
    assert response.status_code == http_status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert re.fullmatch(r"A[\w-]{10,}", error["fbtrace_id"])
    if code != 190:
        assert error["message"].startswith(f"(#{code}) ")
        assert error["error_data"]["messaging_product"] == "whatsapp"
        assert error["error_data"]["details"]
    return error


def seasonal_promo(to: str, **extra) -> dict:
    """A valid send of the marketing template `seasonal_promo` (named, quick replies "Yes please" and
    "Stop promotions", the first with the payload YES_OFFER)."""
    return template("seasonal_promo", "en", [
        {"type": "header", "parameters": [{"type": "text", "parameter_name": "season", "text": "summer"}]},
        named_params(first_name="Camila", discount="20%", end_date="30 November"),
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "YES_OFFER"}]},
    ], to=to, **extra)


def text_message(to: str, body: str) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": body}}


def sent_wamid(response) -> str:
    """The wamid of an accepted send."""
    assert response.status_code == 200, response.text
    return response.json()["messages"][0]["id"]


def statuses_of(webhooks, wamid: str) -> list[dict]:
    """The status webhooks caught so far for one message, in arrival order."""
    return [s for s in webhooks.statuses() if s["id"] == wamid]

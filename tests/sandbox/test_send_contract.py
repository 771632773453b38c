"""POST /{version}/{phone-number-id}/messages answers as Meta does: the success body, and the error
envelope with Meta's code for each way a send can be wrong (reference §1, §2)."""
from __future__ import annotations

import re

import pytest

from tests.sandbox.harness import SECOND_PHONE_NUMBER_ID, WABA_ID
from tests.sandbox.payloads import ORDER_SHIPPED, assert_meta_error, body_params, named_params, template


def test_accepted_template_gets_metas_success_body(sandbox):
    response = sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED, to="+56 9 6123-4567"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+56 9 6123-4567", "wa_id": "56961234567"}]
    [message] = answer["messages"]
    assert message["message_status"] == "accepted"
    assert re.fullmatch(r"wamid\.[A-Za-z0-9+/=]{40,}", message["id"])


def test_every_send_gets_its_own_wamid(sandbox):
    ids = {sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED, to=f"+5696123450{i}")).json()
           ["messages"][0]["id"] for i in range(5)}
    assert len(ids) == 5


def test_number_without_plus_gets_the_business_country_code(sandbox):
    answer = sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED, to="6315551234")).json()
    assert answer["contacts"][0]["wa_id"] == "16315551234"


def test_accepted_message_is_in_the_ledger_as_the_customer_reads_it(sandbox):
    sandbox.send(template("seasonal_promo", "es", [
        {"type": "header", "parameters": [{"type": "text", "parameter_name": "season", "text": "verano"}]},
        named_params(end_date="30 de noviembre", first_name="Camila", discount="20%"),
    ], biz_opaque_callback_data="rcpt:48213"))
    [record] = sandbox.messages(to="+56961234567")
    assert record["template"] == {"name": "seasonal_promo", "language": "es", "category": "MARKETING"}
    assert record["parameters"]["body"] == {"end_date": "30 de noviembre", "first_name": "Camila", "discount": "20%"}
    assert record["biz_opaque_callback_data"] == "rcpt:48213"
    assert record["text"].startswith("Empieza nuestra oferta de verano\n\nHola Camila, llévate 20% de descuento")
    assert record["text"].endswith("[Sí, por favor]\n[No más promociones]")


def test_image_header_url_button_and_quick_reply_payload_are_accepted(sandbox):
    image = {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/p.jpg"}}]}
    assert sandbox.send(template("new_collection", "en", [image, body_params("Camila", "autumn")])).ok
    url_button = {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "8f3a"}]}
    assert sandbox.send(template("cart_reminder", "en", [body_params("Mateo", "a shirt"), url_button],
                                 to="+56961234500")).ok
    quick_reply = {"type": "button", "sub_type": "quick_reply", "index": 1,
                   "parameters": [{"type": "payload", "payload": "STOP_PROMOS"}]}
    header = {"type": "header", "parameters": [{"type": "text", "parameter_name": "season", "text": "winter"}]}
    assert sandbox.send(template("seasonal_promo", "en", [
        header, named_params(first_name="Ana", discount="10%", end_date="1 May"), quick_reply], to="+56961234501")).ok
    texts = {m["template"]["name"]: m["text"] for m in sandbox.messages()}
    assert texts["new_collection"].startswith("[image: https://cdn.example/p.jpg]")
    assert "[Complete my order] https://shop.example.com/cart/8f3a" in texts["cart_reminder"]


def test_text_and_media_messages_are_accepted(sandbox):
    text = {"messaging_product": "whatsapp", "to": "+56961234567", "type": "text",
            "text": {"preview_url": False, "body": "Your order is ready"}}
    image = {"messaging_product": "whatsapp", "to": "+56961234568", "type": "image",
             "image": {"link": "https://cdn.example/p.jpg", "caption": "New in"}}
    assert sandbox.send(text).status_code == 200
    assert sandbox.send(image).status_code == 200
    assert [(m["type"], m["text"]) for m in sandbox.messages()] == [("text", "Your order is ready"),
                                                                    ("image", "New in")]


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_wrong_or_missing_token_gets_the_190_oauth_envelope(sandbox, token):
    response = sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED), token=token)
    error = assert_meta_error(response, 190, http_status=401)
    assert "error_data" not in error  # token errors are plain Graph errors
    assert sandbox.messages() == []


@pytest.mark.parametrize(("name", "language"), [("no_such_template", "en"), ("order_shipped", "fr")])
def test_unknown_template_or_language_gets_132001(sandbox, name, language):
    error = assert_meta_error(sandbox.send(template(name, language, ORDER_SHIPPED)), 132001)
    assert error["error_data"]["details"] == f"template name ({name}) does not exist in {language}"


@pytest.mark.parametrize(("name", "code"), [
    ("welcome_offer", 132001),     # PENDING: not approved in that language
    ("flash_sale_blast", 132001),  # REJECTED
    ("loyalty_points", 132015),    # PAUSED
    ("winter_newsletter", 132016),  # DISABLED
])
def test_template_that_is_not_approved_is_refused_with_its_code(sandbox, name, code):
    assert_meta_error(sandbox.send(template(name, "en", [body_params("Camila", "15%")])), code)


@pytest.mark.parametrize("components", [
    [body_params("Camila", "#10423")],                                   # one too few
    [body_params("Camila", "#10423", "Friday", "extra")],                # one too many
    [],                                                                  # none at all
], ids=["too-few", "too-many", "none"])
def test_wrong_number_of_body_parameters_gets_132000(sandbox, components):
    error = assert_meta_error(sandbox.send(template("order_shipped", "en_US", components)), 132000)
    assert "does not match the expected number of params (3)" in error["error_data"]["details"]


def test_named_template_with_a_wrong_parameter_name_gets_132000(sandbox):
    header = {"type": "header", "parameters": [{"type": "text", "parameter_name": "season", "text": "winter"}]}
    body = named_params(first_name="Ana", discount="10%", valid_until="1 May")
    assert_meta_error(sandbox.send(template("seasonal_promo", "en", [header, body])), 132000)


def test_missing_url_suffix_and_missing_header_get_132000(sandbox):
    assert_meta_error(sandbox.send(template("cart_reminder", "en", [body_params("Mateo", "a shirt")])), 132000)
    assert_meta_error(sandbox.send(template("new_collection", "en", [body_params("Camila", "autumn")])), 132000)


def test_text_where_the_template_has_an_image_header_gets_132012(sandbox):
    header = {"type": "header", "parameters": [{"type": "text", "text": "hello"}]}
    assert_meta_error(sandbox.send(template("new_collection", "en", [header, body_params("Camila", "autumn")])),
                      132012)


def _seasonal_promo_with(button: dict) -> dict:
    header = {"type": "header", "parameters": [{"type": "text", "parameter_name": "season", "text": "winter"}]}
    return template("seasonal_promo", "en", [header, named_params(first_name="Ana", discount="10%", end_date="1 May"),
                                             button])


@pytest.mark.parametrize(("button", "code"), [
    ({"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "text", "text": "STOP"}]},
     132012),
    ({"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "STOP"}]}, 132012),
    ({"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": []}, 132000),
    ({"type": "button", "sub_type": "quick_reply", "index": "1",
      "parameters": [{"type": "payload", "payload": "A"}, {"type": "payload", "payload": "B"}]}, 132000),
    ({"type": "button", "sub_type": "quick_reply", "index": "2",
      "parameters": [{"type": "payload", "payload": "MORE"}]}, 132000),
    ({"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": ""}]},
     131008),
    ({"type": "button", "sub_type": "quick_reply", "index": "1",
      "parameters": [{"type": "payload", "payload": "x" * 257}]}, 131009),
], ids=["text-for-a-payload", "url-at-a-quick-reply", "no-parameter", "two-parameters", "no-such-button",
        "empty-payload", "payload-too-long"])
def test_a_quick_reply_button_sent_wrong_gets_metas_parameter_error(sandbox, button, code):
    assert_meta_error(sandbox.send(_seasonal_promo_with(button)), code)
    assert sandbox.messages() == []


def test_body_that_becomes_too_long_gets_132005(sandbox):
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", [body_params("x" * 1100, "#1", "Friday")])),
                      132005)


def test_parameter_with_a_newline_is_an_invalid_parameter(sandbox):
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", [body_params("Cami\nla", "#1", "Fri")])), 100)


@pytest.mark.parametrize(("to", "code"), [("not-a-number", 100), ("+1234", 131009), ("+1234567890123456", 131009)])
def test_malformed_number_gets_invalid_parameter(sandbox, to, code):
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED, to=to)), code)


def test_sending_to_the_business_number_itself_gets_131021(sandbox):
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED, to="+15550001234")), 131021)


def test_missing_messaging_product_and_too_long_callback_data_are_invalid_parameters(sandbox):
    body = template("order_shipped", "en_US", ORDER_SHIPPED)
    del body["messaging_product"]
    assert_meta_error(sandbox.send(body), 100)
    long_callback = template("order_shipped", "en_US", ORDER_SHIPPED, biz_opaque_callback_data="x" * 513)
    assert_meta_error(sandbox.send(long_callback), 100)


def test_unknown_phone_number_id_is_an_unsupported_request(sandbox):
    response = sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED), phone_number_id="999999999999999")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (100, 33, "GraphMethodException")


def test_a_second_sender_number_sends_too(sandbox):
    response = sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED), phone_number_id=SECOND_PHONE_NUMBER_ID)
    assert response.status_code == 200
    assert sandbox.messages()[0]["phone_number_id"] == SECOND_PHONE_NUMBER_ID


def test_refused_sends_are_not_in_the_ledger_but_are_counted(sandbox):
    sandbox.send(template("no_such_template", "en", ORDER_SHIPPED))
    sandbox.send(template("order_shipped", "en_US", [body_params("Camila")]))
    assert sandbox.messages() == []
    assert sandbox.stats()["errors"] == {"132000": 1, "132001": 1}


def test_a_template_meta_pauses_is_refused_listed_as_paused_and_back_after_a_reset(sandbox):
    review = sandbox.control("POST", "template-status", json={"name": "order_shipped", "language": "en_US",
                                                              "event": "PAUSED"})
    change = review["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update" and isinstance(review["entry"][0]["time"], int)
    assert change["value"]["event"] == "PAUSED" and change["value"]["message_template_name"] == "order_shipped"
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED)), 132015)
    listed = sandbox.get(f"{WABA_ID}/message_templates", fields="name,language,status", limit=100).json()["data"]
    assert {(t["name"], t["language"]): t["status"] for t in listed}[("order_shipped", "en_US")] == "PAUSED"

    sandbox.control("POST", "template-status", json={"name": "order_shipped", "language": "en_US",
                                                     "event": "DISABLED"})
    assert_meta_error(sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED)), 132016)
    sandbox.reset()
    assert sandbox.send(template("order_shipped", "en_US", ORDER_SHIPPED)).status_code == 200

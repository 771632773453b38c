"""Pure tests of what webapp.cloudapi reads from templates and builds for a send."""
from __future__ import annotations

import pytest

from webapp.cloudapi import (
    TemplateVariables,
    render_template,
    render_template_parts,
    template_components,
    template_message,
    template_variables,
)
from webapp.meta_errors import Action, classify, read_error_item
from webapp.sandbox.templates import TemplateStore

TEMPLATES = TemplateStore()


def components(name: str, language: str = "en") -> list[dict]:
    return TEMPLATES.find(name, language)["components"]


def test_positional_body_variables_are_listed_in_number_order():
    body = [{"type": "BODY", "text": "Order {{2}} for {{1}} arrives {{3}}; thanks {{1}}!"}]
    assert template_variables(body, "POSITIONAL") == TemplateVariables(body=("1", "2", "3"))


def test_named_template_lists_header_and_body_names_and_its_quick_replies():
    variables = template_variables(components("seasonal_promo"), "NAMED")
    assert variables.named
    assert (variables.header, variables.header_variable) == ("text", "season")
    assert variables.body == ("first_name", "discount", "end_date")
    assert variables.quick_replies == ((0, "Yes please"), (1, "Stop promotions"))
    assert variables.url_buttons == ()


def test_media_header_asks_for_its_media_type():
    assert template_variables(components("new_collection"), "POSITIONAL").header == "image"
    assert template_variables(components("invoice_ready", "en_US"), "POSITIONAL").header == "document"


def test_only_url_buttons_with_a_dynamic_suffix_need_a_value():
    variables = template_variables(components("cart_reminder"), "POSITIONAL")
    assert variables.url_buttons == (0,)  # button 1 is a static URL


def test_text_header_without_variables_needs_nothing():
    assert template_variables(components("hello_world", "en_US"), "POSITIONAL") == TemplateVariables()


def test_named_snapshot_becomes_components_with_parameter_names():
    params = {
        "header": {"type": "text", "text": "summer", "parameter_name": "season"},
        "body": {"first_name": "Camila", "discount": "20%"},
        "buttons": [{"index": 1, "sub_type": "quick_reply", "payload": "STOP"},
                    {"index": 0, "sub_type": "url", "text": "NOV20"}],
    }
    assert template_components(params) == [
        {"type": "header", "parameters": [{"type": "text", "text": "summer", "parameter_name": "season"}]},
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Camila"},
                                        {"type": "text", "parameter_name": "discount", "text": "20%"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "NOV20"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "1",
         "parameters": [{"type": "payload", "payload": "STOP"}]},
    ]


def test_positional_snapshot_with_image_header_matches_the_reference_example():
    message = template_message("+56961234567", "promo_nov", "es",
                               {"header": {"type": "image", "link": "https://cdn.example/p.jpg"},
                                "body": ["Camila", "20%"]}, callback_data="rcpt:48213")
    assert message == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+56961234567", "type": "template",
        "biz_opaque_callback_data": "rcpt:48213",
        "template": {"name": "promo_nov", "language": {"code": "es"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/p.jpg"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Camila"}, {"type": "text", "text": "20%"}]},
        ]},
    }


def test_document_header_keeps_its_filename_and_media_id():
    [header] = template_components({"header": {"type": "document", "id": "4490", "filename": "invoice.pdf"}})
    assert header["parameters"] == [{"type": "document", "document": {"id": "4490", "filename": "invoice.pdf"}}]


def test_template_without_parameters_sends_no_components():
    assert "components" not in template_message("+15550001111", "hello_world", "en_US", None)["template"]


def test_rendering_fills_header_body_and_shows_footer_and_buttons():
    text = render_template(components("seasonal_promo"), {
        "header": {"type": "text", "text": "summer", "parameter_name": "season"},
        "body": {"first_name": "Camila", "discount": "20%", "end_date": "30 November"},
    })
    assert text == ("Our summer sale starts now\n\n"
                    "Hi Camila, take 20% off everything in store until 30 November. Shall we save you a spot?\n\n"
                    "Not interested? Tap Stop promotions\n\n"
                    "[Yes please]\n[Stop promotions]")


def test_rendering_completes_the_dynamic_url_and_keeps_missing_values_visible():
    parts = render_template_parts(components("cart_reminder"), {
        "body": ["Camila"], "buttons": [{"index": 0, "sub_type": "url", "text": "8f3a2c"}]})
    assert parts.body.startswith("Hi Camila, you left {{2}} in your cart.")
    assert [(b.label, b.url) for b in parts.buttons] == [
        ("Complete my order", "https://shop.example.com/cart/8f3a2c"), ("Visit the shop", "https://shop.example.com/")]


def test_rendering_shows_the_media_header():
    parts = render_template_parts(components("new_collection"), {
        "header": {"type": "image", "link": "https://cdn.example/a.jpg"}, "body": ["Camila", "autumn"]})
    assert parts.header_media == {"type": "image", "link": "https://cdn.example/a.jpg"}
    assert parts.text.startswith("[image: https://cdn.example/a.jpg]\n\nHi Camila, our new autumn collection")


@pytest.mark.parametrize(("code", "action"), [
    (130429, Action.THROTTLE), (131056, Action.PAIR_LIMIT), (131057, Action.MAINTENANCE),
    (131000, Action.RETRY), (4, Action.RETRY), (80007, Action.RETRY), (131016, Action.RETRY),
    (131026, Action.ROW_FAIL), (100, Action.ROW_FAIL), (132005, Action.ROW_FAIL), (131047, Action.ROW_FAIL),
    (131049, Action.MARKETING_CAP), (131050, Action.OPTED_OUT),
    (190, Action.STOP), (0, Action.STOP), (132001, Action.STOP), (132000, Action.STOP), (132015, Action.STOP),
    (131042, Action.STOP), (131064, Action.STOP),
])
def test_each_meta_code_maps_to_its_action(code, action):
    assert classify(code) is action


def test_server_errors_are_retried_whatever_the_code_and_unknown_codes_fail_only_the_row():
    assert classify(132001, http_status=500) is Action.RETRY
    assert classify(999999) is Action.ROW_FAIL
    assert classify(None, http_status=404) is Action.STOP  # not a Graph answer: wrong base URL


def test_a_failed_status_error_from_a_webhook_is_classified_by_the_same_table():
    error = read_error_item({
        "code": 131050, "title": "Unable to deliver the message.", "message": "Unable to deliver the message.",
        "error_data": {"details": "The recipient has stopped marketing messages."}})
    assert (error.code, error.action, error.detail) == (
        131050, Action.OPTED_OUT, "The recipient has stopped marketing messages.")
    assert error.action.retryable is False

"""The Sandbox phone page shows what a test customer received, and lets staff answer as them."""
from __future__ import annotations

import re

from tests.conftest import post
from webapp.senders.services import client_for


def test_a_message_sent_through_the_client_shows_on_the_sandbox_phone(app, staff_client, sandbox, sandbox_sender):
    client_for(sandbox_sender).send_template(sandbox_sender.phone_number_id, "+15550100042", "order_shipped",
                                             "en_US", {"body": ["Lucía <b>", "#42", "Monday"]})
    page = staff_client.get("/sandbox/phone?number=%2B15550100042").get_data(as_text=True)
    assert "+15550100042" in page
    assert "Hi Lucía &lt;b&gt;, your order #42 has shipped and should arrive on Monday." in page


def test_staff_reply_as_the_customer_through_the_sandbox(app, staff_client, sandbox, sandbox_sender):
    response = post(staff_client, "/sandbox/phone/reply", {"number": "+15550100042", "text": "STOP"})
    assert response.status_code == 302
    assert [m["message"]["text"]["body"] for m in sandbox.control("GET", "inbound")["data"]] == ["STOP"]
    page = staff_client.get("/sandbox/phone?number=%2B15550100042").get_data(as_text=True)
    assert "STOP" in page


def test_staff_tap_a_quick_reply_button_as_the_customer(app, staff_client, sandbox, sandbox_sender):
    wamid = client_for(sandbox_sender).send_template(
        sandbox_sender.phone_number_id, "+15550100042", "seasonal_promo", "en",
        {"header": {"type": "text", "text": "summer", "parameter_name": "season"},
         "body": {"first_name": "Ana", "discount": "20%", "end_date": "Sunday"},
         "buttons": [{"index": 0, "sub_type": "quick_reply", "payload": "YES"},
                     {"index": 1, "sub_type": "quick_reply", "payload": "STOP_PROMOS"}]}).wamid
    page = staff_client.get("/sandbox/phone?number=%2B15550100042").get_data(as_text=True)
    assert 'type="submit">Stop promotions</button>' in page

    response = post(staff_client, "/sandbox/phone/tap", {"number": "+15550100042", "wamid": wamid, "button": "1"})

    assert response.status_code == 302
    [inbound] = sandbox.control("GET", "inbound")["data"]
    message = inbound["message"]
    assert (message["type"], message["button"]) == ("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"})
    assert message["context"]["id"] == wamid  # Meta names the message whose button was tapped


def test_a_number_the_sandbox_refuses_is_said_so(app, staff_client, sandbox, sandbox_sender):
    response = post(staff_client, "/sandbox/phone/reply", {"number": "not a number", "text": "Hi"},
                    follow_redirects=True)

    assert response.status_code == 200
    assert "&#39;not a number&#39; is not a phone number." in response.get_data(as_text=True)
    assert sandbox.control("GET", "inbound")["data"] == []


def test_the_page_says_how_to_start_a_sandbox_that_is_not_running(app, staff_client):
    app.config.update(SANDBOX_ENABLED=True, SANDBOX_URL="http://127.0.0.1:9")  # nothing listens there
    response = staff_client.get("/sandbox/phone")
    assert response.status_code == 503
    assert "does not answer" in response.get_data(as_text=True)


def test_without_the_sandbox_there_is_no_sandbox_phone(app, staff_client):
    app.config["SANDBOX_ENABLED"] = False  # production: SANDBOX_ENABLED=0

    assert staff_client.get("/sandbox/phone").status_code == 404
    assert post(staff_client, "/sandbox/phone/reply", {"number": "+15550100042", "text": "STOP"}).status_code == 404
    assert "Sandbox phone" not in staff_client.get("/").get_data(as_text=True)


def test_with_the_sandbox_the_menu_offers_its_phone(app, staff_client):
    app.config["SANDBOX_ENABLED"] = True

    assert "Sandbox phone" in staff_client.get("/").get_data(as_text=True)


def test_a_brazilian_customer_writes_from_the_wa_id_and_the_page_still_shows_it(app, staff_client, sandbox,
                                                                                 sandbox_sender):
    post(staff_client, "/sandbox/phone/reply", {"number": "+5511987654321", "text": "Oi, tudo bem?"})
    assert sandbox.control("GET", "inbound")["data"][0]["wa_id"] == "551187654321"  # as Meta reports the sender
    staff_client.get("/sandbox/phone")  # the flash that repeats the text is shown and gone
    page = staff_client.get("/sandbox/phone?number=%2B5511987654321").get_data(as_text=True)
    assert re.search(r'class="bubble bubble-in">\s*Oi, tudo bem\?', page)

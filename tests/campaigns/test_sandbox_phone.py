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


def test_the_page_says_how_to_start_a_sandbox_that_is_not_running(app, staff_client):
    app.config["SANDBOX_URL"] = "http://127.0.0.1:9"  # nothing listens there
    response = staff_client.get("/sandbox/phone")
    assert response.status_code == 503
    assert "does not answer" in response.get_data(as_text=True)


def test_a_brazilian_customer_writes_from_the_wa_id_and_the_page_still_shows_it(app, staff_client, sandbox,
                                                                                 sandbox_sender):
    post(staff_client, "/sandbox/phone/reply", {"number": "+5511987654321", "text": "Oi, tudo bem?"})
    assert sandbox.control("GET", "inbound")["data"][0]["wa_id"] == "551187654321"  # as Meta reports the sender
    staff_client.get("/sandbox/phone")  # the flash that repeats the text is shown and gone
    page = staff_client.get("/sandbox/phone?number=%2B5511987654321").get_data(as_text=True)
    assert re.search(r'class="bubble bubble-in">\s*Oi, tudo bem\?', page)

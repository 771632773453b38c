"""The Sandbox phone shows what the business sent free-form — text formatted as WhatsApp does, photos inline,
documents to download — and lets staff send a photo or a document as the customer, which reaches the app as
Meta's media webhook."""
from __future__ import annotations

import io
import re

import pytest

from tests.conftest import post
from tests.sandbox.harness import PHONE_NUMBER_ID
from webapp.whatsapp_text import formatted

CUSTOMER = "+56961234550"
JPEG = b"\xff\xd8\xff\xe0" + b"the blue one" * 50
PDF = b"%PDF-1.4 price list"


@pytest.fixture
def phone(app, sandbox, staff_client):
    """The staff's browser on the Sandbox phone of the test's sandbox, with CUSTOMER's window open."""
    app.config.update(SANDBOX_ENABLED=True, SANDBOX_URL=sandbox.base_url)
    sandbox.configure(pair_interval=0)
    sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": 60})
    return staff_client


def page(phone) -> str:
    return phone.get(f"/sandbox/phone?number={CUSTOMER.replace('+', '%2B')}").get_data(as_text=True)


def test_a_text_shows_with_whatsapps_formatting_and_nothing_else_as_html(sandbox, phone):
    sandbox.client().send_text(PHONE_NUMBER_ID, CUSTOMER, "*Yes*, we have it _in blue_ <script>alert(1)</script>")

    assert "<strong>Yes</strong>, we have it <em>in blue</em> &lt;script&gt;alert(1)&lt;/script&gt;" in page(phone)


def test_a_photo_shows_inline_and_a_document_as_a_download(sandbox, phone):
    api = sandbox.client()
    photo = api.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg")
    document = api.upload_media(PHONE_NUMBER_ID, PDF, "application/pdf", "prices.pdf")
    api.send_media(PHONE_NUMBER_ID, CUSTOMER, "image", media_id=photo, caption="The _blue_ one")
    api.send_media(PHONE_NUMBER_ID, CUSTOMER, "document", media_id=document, filename="prices.pdf")

    shown = page(phone)

    assert f'<img src="/sandbox/phone/media/{photo}"' in shown and "The <em>blue</em> one" in shown
    assert re.search(rf'<a class="media-file" href="/sandbox/phone/media/{document}">prices.pdf</a>', shown)
    image = phone.get(f"/sandbox/phone/media/{photo}")
    assert (image.data, image.mimetype, image.headers["Content-Disposition"]) == (JPEG, "image/jpeg", "inline")
    download = phone.get(f"/sandbox/phone/media/{document}")
    assert download.data == PDF
    assert download.headers["Content-Disposition"] == "attachment; filename=prices.pdf"


def test_staff_send_a_photo_as_the_customer_and_the_app_gets_metas_image_webhook(sandbox, webhooks, phone):
    response = post(phone, "/sandbox/phone/file", {"number": CUSTOMER, "caption": "This one?",
                                                   "file": (io.BytesIO(JPEG), "IMG_0042.jpg", "image/jpeg")})

    assert response.status_code == 302
    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["type"] == "image" and message["image"]["caption"] == "This one?"
    assert f'<img src="/sandbox/phone/media/{message["image"]["id"]}"' in page(phone)


def test_a_customers_html_file_is_a_document_that_is_only_downloaded(sandbox, webhooks, phone):
    post(phone, "/sandbox/phone/file", {"number": CUSTOMER,
                                        "file": (io.BytesIO(b"<script>alert(1)</script>"), "page.html", "text/html")})

    [message] = webhooks.wait_for(lambda w: w.inbound_messages())
    assert message["type"] == "document" and message["document"]["filename"] == "page.html"
    download = phone.get(f"/sandbox/phone/media/{message['document']['id']}")
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"] == "attachment; filename=page.html"


def test_sending_no_file_says_what_to_do(sandbox, phone):
    response = post(phone, "/sandbox/phone/file", {"number": CUSTOMER}, follow_redirects=True)

    assert "Choose a photo or a document" in response.get_data(as_text=True)
    assert sandbox.control("GET", "inbound")["data"] == []


@pytest.mark.parametrize(("typed", "shown"), [
    ("*Friday* works, ~Thursday~ not", "<strong>Friday</strong> works, <del>Thursday</del> not"),
    ("Code: ```AB-12```", "Code: <code>AB-12</code>"),
    ("2*3*4 = 24, see snake_case_name", "2*3*4 = 24, see snake_case_name"),  # markers inside words stay
    ("* spaced * and *two\nlines*", "* spaced * and *two\nlines*"),
    ("_<b>_", "<em>&lt;b&gt;</em>"),
])
def test_whatsapp_formatting_reads_as_on_a_phone(typed, shown):
    assert str(formatted(typed)) == shown

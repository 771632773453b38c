"""The inbox against the real sandbox over HTTP, its webhooks relayed to the app: a customer writes or sends a photo
through the sandbox, staff answer (text or a PDF, uploaded then sent by id), the sandbox's statuses move the answer,
and its 24-hour window agrees with ours at the edges."""
from __future__ import annotations

import base64
from datetime import timedelta
from io import BytesIO

from sqlalchemy import select

import jobs.inbox
from tests.conftest import post
from tests.sandbox.harness import APP_SECRET
from tests.webhooks import meta
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Answer, Conversation, InboundMedia
from webapp.timestamps import utcnow

CUSTOMER = "+56961234550"  # the sandbox's default profile: its messages are read, never answered
PDF = b"%PDF-1.4\n% our spring catalogue\n" + b"0" * 2000
JPEG = b"\xff\xd8\xff\xe0" + b"the blue one" * 200
DAY = 24 * 3600


def _conversation() -> Conversation | None:
    return db.session.scalar(select(Conversation).join(Contact).where(Contact.phone == CUSTOMER))


def _answer() -> Answer:
    return db.session.scalar(select(Answer).order_by(Answer.id.desc()))


def customer_writes(sandbox, relay, **message) -> Conversation:
    """The customer writes through the sandbox; its webhook reaches the app."""
    sandbox.control("POST", "inbound", json={"from": CUSTOMER, **message})
    return relay.until(_conversation)


def customer_wrote(sandbox, client, seconds_ago: int) -> Conversation:
    """Both clocks agree the customer last wrote `seconds_ago`: the sandbox's window, and the app's (their message
    arrives by a webhook of that time)."""
    sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": seconds_ago})
    at = utcnow() - timedelta(seconds=seconds_ago)
    body = meta.message(f"wamid.IN.{seconds_ago}", CUSTOMER.lstrip("+"), at, "Is it in stock?")
    assert meta.post(client, meta.body_of(body), secret=APP_SECRET).status_code == 200
    db.session.expire_all()
    return _conversation()


def test_a_pdf_answer_is_uploaded_sent_by_id_and_read(admin_client, sandbox, relay):
    conversation = customer_writes(sandbox, relay, text="Do you have a catalogue?")
    response = post(admin_client, f"/inbox/{conversation.id}/answer",
                    {"text": "Here it is", "file": (BytesIO(PDF), "catalogue.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    answer = _answer()
    assert jobs.inbox.send_answer(answer.id) == "accepted"

    [sent] = [m for m in sandbox.messages() if m["to"] == CUSTOMER and m["type"] == "document"]
    assert sent["media"]["filename"] == "catalogue.pdf" and sent["media"]["id"] and sent["text"] == "Here it is"
    assert sent["biz_opaque_callback_data"] == f"a:{answer.id}"
    assert relay.until(lambda: _answer().status == "read")
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "[Document: catalogue.pdf]" in page and "badge-read" in page


def test_a_customers_photo_is_downloaded_and_shown_inline_to_staff_only(app, admin_client, sandbox, relay):
    conversation = customer_writes(sandbox, relay, image={"data_base64": base64.b64encode(JPEG).decode(),
                                                          "mime_type": "image/jpeg", "caption": "This one?"})
    media = db.session.scalar(select(InboundMedia))
    assert media.status == "pending"
    assert jobs.inbox.download_media(media.inbound_message_id) == "stored"

    url = f"/inbox/files/{media.inbound_message_id}"
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert f'<img src="{url}"' in page and "This one?" in page
    served = admin_client.get(url)
    assert served.status_code == 200 and served.data == JPEG and served.mimetype == "image/jpeg"
    assert "attachment" not in served.headers.get("Content-Disposition", "")
    assert app.test_client().get(url).status_code in (302, 401)


def test_a_failed_download_offers_retry_which_stores_the_file(admin_client, sandbox, relay):
    sandbox.fault(endpoint="media_download", status=500, count=1)
    conversation = customer_writes(sandbox, relay, image={"data_base64": base64.b64encode(JPEG).decode(),
                                                          "mime_type": "image/jpeg"})
    inbound_id = db.session.scalar(select(InboundMedia.inbound_message_id))
    assert jobs.inbox.download_media(inbound_id) == "failed"
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "The image could not be downloaded" in page and ">Retry<" in page

    assert post(admin_client, f"/inbox/files/{inbound_id}/retry").status_code == 302
    assert jobs.inbox.download_media(inbound_id) == "stored"
    assert admin_client.get(f"/inbox/files/{inbound_id}").data == JPEG


def test_an_answer_a_minute_before_the_window_closes_is_delivered(admin_client, sandbox, relay):
    conversation = customer_wrote(sandbox, relay.client, DAY - 60)
    assert post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes, in blue"}).status_code == 302
    assert jobs.inbox.send_answer(_answer().id) == "accepted"
    assert relay.until(lambda: _answer().status == "read")


def test_an_answer_a_minute_after_the_window_closed_is_refused_before_any_request(admin_client, sandbox, relay):
    conversation = customer_wrote(sandbox, relay.client, DAY + 60)
    response = post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes, in blue"})
    assert response.status_code == 422 and "Yes, in blue" in response.get_data(as_text=True)
    assert _answer() is None and sandbox.messages() == []


def test_an_answer_meta_finds_outside_its_window_fails_with_the_reason(admin_client, sandbox, relay):
    conversation = customer_wrote(sandbox, relay.client, 60)
    assert post(admin_client, f"/inbox/{conversation.id}/answer", {"text": "Yes, in blue"}).status_code == 302
    sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": DAY + 60})
    assert jobs.inbox.send_answer(_answer().id) == "accepted"  # our clock says open; Meta's does not

    failed = relay.until(lambda: _answer().status == "failed" and _answer())
    assert failed.error_code == 131047
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "More than 24 hours have passed since this customer last wrote." in page


def _order_shipped():
    from webapp.senders.models import Template

    return db.session.scalar(select(Template).where(Template.name == "order_shipped"))


def test_outside_the_window_staff_send_an_approved_template_mapped_as_compose_maps_it(admin_client, sandbox, relay):
    conversation = customer_wrote(sandbox, relay.client, DAY + 60)
    template = _order_shipped()
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "only lets an approved template reach this customer" in page and "order_shipped (en_US)" in page
    fields = admin_client.get(f"/inbox/{conversation.id}/template-fields", query_string={"template": template.id},
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="var:body:1:source"' in fields and 'name="var:body:3:fallback"' in fields

    mapping = {"template": template.id, "var:body:1:source": "first_name", "var:body:1:fallback": "there",
               "var:body:2:source": "constant", "var:body:2:value": "#10423"}
    refused = post(admin_client, f"/inbox/{conversation.id}/template", mapping)
    assert refused.status_code == 422 and "Choose where this value comes from." in refused.get_data(as_text=True)
    assert _answer() is None

    mapping |= {"var:body:3:source": "constant", "var:body:3:value": "Friday"}
    assert post(admin_client, f"/inbox/{conversation.id}/template", mapping).status_code == 302
    answer = _answer()
    assert (answer.kind, answer.template_name) == ("template", "order_shipped")
    assert "Hi Ana, your order #10423 has shipped and should arrive on Friday." in answer.text
    assert jobs.inbox.send_answer(answer.id) == "accepted"
    [sent] = sandbox.messages()
    assert sent["type"] == "template" and sent["biz_opaque_callback_data"] == f"a:{answer.id}"
    assert relay.until(lambda: _answer().status == "read")  # templates are not bound by the window
    shown = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "[Template: order_shipped]" in shown and "your order #10423 has shipped" in shown


def test_an_opted_out_customer_is_offered_no_template_and_the_page_says_why(admin_client, sandbox, relay):
    conversation = customer_wrote(sandbox, relay.client, DAY + 60)
    conversation.contact.opted_out_at = utcnow()
    db.session.commit()
    page = admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)
    assert "no template may reach them" in page and "Send the template" not in page
    refused = post(admin_client, f"/inbox/{conversation.id}/template",
                   {"template": _order_shipped().id, "var:body:1:source": "name"})
    assert refused.status_code == 422 and _answer() is None

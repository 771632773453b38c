"""webapp.cloudapi's free-form and media functions against the sandbox over real HTTP: what the inbox calls to
answer a customer (text, media by id or link), to upload a file, and to fetch a customer's file; every refusal a
CloudAPIError with Meta's code and the action to take."""
from __future__ import annotations

import base64
import hashlib

import pytest

from tests.sandbox.harness import PHONE_NUMBER_ID
from tests.sandbox.payloads import statuses_of
from webapp.cloudapi import CloudAPIError, MediaTooLarge, media_kind
from webapp.meta_errors import Action, explain

CUSTOMER = "+56961234550"
JPEG = b"\xff\xd8\xff\xe0" + b"the blue one" * 50


@pytest.fixture
def client(sandbox):
    sandbox.configure(pair_interval=0)
    sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": 600})
    api = sandbox.client()
    yield api
    api.close()


def refused(call) -> CloudAPIError:
    with pytest.raises(CloudAPIError) as caught:
        call()
    return caught.value


def test_send_text_carries_the_preview_flag_and_the_callback_data(sandbox, client):
    result = client.send_text(PHONE_NUMBER_ID, CUSTOMER, "See *this*: https://shop.example/blue", preview_url=True,
                              callback_data="answer:17")

    [record] = sandbox.messages()
    assert (record["wamid"], record["type"], record["text"]) == (result.wamid, "text",
                                                                 "See *this*: https://shop.example/blue")
    assert record["biz_opaque_callback_data"] == "answer:17"


def test_an_uploaded_photo_is_sent_by_id_and_a_document_by_link(sandbox, client):
    media_id = client.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg")
    client.send_media(PHONE_NUMBER_ID, CUSTOMER, "image", media_id=media_id, caption="The _blue_ one")
    client.send_media(PHONE_NUMBER_ID, CUSTOMER, "document", link="https://shop.example/prices.pdf",
                      filename="prices.pdf", caption="Our prices")

    photo, document = sandbox.messages()
    assert (photo["type"], photo["media"], photo["text"]) == ("image", {"type": "image", "id": media_id},
                                                              "The _blue_ one")
    assert document["media"] == {"type": "document", "link": "https://shop.example/prices.pdf",
                                 "filename": "prices.pdf"}


def test_a_free_form_send_after_the_window_is_accepted_then_fails_131047(sandbox, webhooks, client):
    sandbox.control("POST", "service-window", json={"number": CUSTOMER, "customer_wrote_ago": 24 * 3600 + 60})

    result = client.send_text(PHONE_NUMBER_ID, CUSTOMER, "Still there?")

    [failed] = webhooks.wait_for(lambda w: statuses_of(w, result.wamid))
    assert failed["errors"][0]["code"] == 131047
    assert "template" in str(explain(131047))


def test_a_customers_file_is_read_then_downloaded_with_its_checksum(sandbox, webhooks, client):
    sandbox.control("POST", "inbound", json={
        "from": CUSTOMER, "image": {"data_base64": base64.b64encode(JPEG).decode(), "mime_type": "image/jpeg"}})
    [message] = webhooks.wait_for(lambda w: w.inbound_messages())

    info = client.media_info(message["image"]["id"])
    data = client.download_media(info.url, max_bytes=1024 * 1024)

    assert data == JPEG
    assert (info.mime_type, info.file_size, info.sha256) == ("image/jpeg", len(JPEG), hashlib.sha256(data).hexdigest())


def test_a_download_stops_at_the_callers_cap(client):
    info = client.media_info(client.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg"))

    error = refused(lambda: client.download_media(info.url, max_bytes=len(JPEG) - 1))

    assert isinstance(error, MediaTooLarge) and error.action is Action.ROW_FAIL


def test_a_failed_download_is_worth_retrying_with_a_fresh_url(sandbox, client):
    info = client.media_info(client.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg"))
    sandbox.fault(endpoint="media_download", status=500, count=1)
    assert refused(lambda: client.download_media(info.url, 1024 * 1024)).action is Action.RETRY

    expired = info.url.replace("ext=", "ext=1")  # a URL the sandbox did not sign: as good as expired
    error = refused(lambda: client.download_media(expired, 1024 * 1024))
    assert (error.http_status, error.action) == (404, Action.RETRY)
    assert client.download_media(client.media_info(info.id).url, 1024 * 1024) == JPEG


def test_a_media_read_meta_refuses_carries_its_code(sandbox, client):
    media_id = client.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg")
    sandbox.fault(endpoint="media", status=400, code=131052, count=1)

    error = refused(lambda: client.media_info(media_id))

    assert error.code == 131052 and "could not be downloaded" in str(explain(error.code))


def test_deleted_media_is_unknown_to_the_graph(client):
    media_id = client.upload_media(PHONE_NUMBER_ID, JPEG, "image/jpeg", "blue.jpg")
    client.delete_media(media_id)

    assert refused(lambda: client.media_info(media_id)).code == 100


def test_uploads_whatsapp_refuses_say_why(client):
    wrong_type = refused(lambda: client.upload_media(PHONE_NUMBER_ID, b"GIF89a", "image/gif", "dance.gif"))
    assert (wrong_type.code, wrong_type.action) == (100, Action.ROW_FAIL)
    assert "Received file of type 'image/gif'" in wrong_type.title

    too_large = refused(lambda: client.upload_media(PHONE_NUMBER_ID, b"\xff" * (5 * 1024 * 1024 + 1), "image/png",
                                                    "huge.png"))
    assert too_large.code == 131053 and "5,242,880 bytes" in too_large.details


def test_media_kind_says_what_whatsapp_takes_before_an_upload():
    assert media_kind("image/jpeg").type == "image" and media_kind("IMAGE/PNG").max_bytes == 5 * 1024 * 1024
    assert media_kind("audio/ogg; codecs=opus").type == "audio"
    assert media_kind("application/pdf").max_bytes == 100 * 1024 * 1024
    assert media_kind("image/webp").type == "sticker"
    assert media_kind("image/gif") is None and media_kind("application/zip") is None
